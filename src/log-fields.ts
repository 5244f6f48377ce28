import { context as contextApi, trace, type Context } from '@opentelemetry/api';

/** Trace fields for a log line, named as OpenTelemetry's log data model names them. */
export interface TraceLogFields {
  /** 32 lowercase hex characters. */
  readonly trace_id?: string;
  /** 16 lowercase hex characters. */
  readonly span_id?: string;
  /** `01` when sampled, `00` otherwise. */
  readonly trace_flags?: string;
}

/**
 * `{ trace_id, span_id, trace_flags }` of the span active in `ctx` (the current
 * context by default), or an empty object when there is none. Made for a logger's
 * mixin or format: see the README for pino and winston. Always a new object, which
 * the caller may change: pino merges a log call's own fields into the mixin's result.
 */
export function traceLogFields(ctx: Context = contextApi.active()): TraceLogFields {
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: spanContext.traceFlags & 1 ? '01' : '00',
  };
}
