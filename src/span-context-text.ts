import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';

/** A span context as a W3C `traceparent` string (`00-{trace id}-{span id}-{flags}`). */
export function toTraceparent(spanContext: SpanContext): string {
  const flags = spanContext.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** Parses a `traceparent` string into a remote span context, or `undefined` when invalid. */
export function fromTraceparent(traceparent: string): SpanContext | undefined {
  const parsed = parseTraceParent(traceparent);
  return parsed === null ? undefined : { ...parsed, isRemote: true };
}
