import {
  context as contextApi,
  propagation,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { headerToString } from './header-value.js';
import { reportOnce } from './report.js';
import {
  guardTraceparent,
  isSameParent,
  parseBaggage,
  parseTracestate,
  toBaggage,
  type ParsedBaggage,
  type W3CTraceState,
} from './w3c-guard.js';

/** The W3C header names tracehop writes and reads. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
export const BAGGAGE = 'baggage';

/**
 * The trace headers to put on one outgoing message, as the propagator wrote them:
 * with the default propagator `traceparent`, and `tracestate` and `baggage` when
 * there are any.
 */
export type TraceFields = Record<string, string>;

/** Reads one raw header or attribute value from a message, as the broker holds it. */
export type HeaderReader<TMessage> = (message: TMessage, key: string) => unknown;

const w3c: TextMapPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/**
 * The propagator in force: the globally registered one when the application set one
 * (`propagation.setGlobalPropagator`, or an SDK that did), otherwise W3C trace-context
 * plus baggage from `@opentelemetry/core`.
 */
function currentPropagator(): TextMapPropagator {
  return propagation.fields().length > 0 ? propagation : w3c;
}

const fieldSetter: TextMapSetter<TraceFields> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * Writes the context's trace headers into a new plain object. Never throws: a
 * propagator that fails leaves the message without trace headers and says so once
 * through `diag`.
 */
export function injectTraceFields(ctx: Context): TraceFields {
  const fields: TraceFields = {};
  try {
    currentPropagator().inject(ctx, fields, fieldSetter);
  } catch (error) {
    reportOnce('inject', `could not inject trace headers: ${String(error)}`);
  }
  return fields;
}

/**
 * A getter over one transport's header reader that turns every value into a string
 * or `undefined` (see {@link headerToString}) and never throws, and that holds the W3C
 * fields to their specifications whatever propagator asks (see `src/w3c-guard.ts`):
 * `traceparent` is handed over only when valid (trimmed of spaces and tabs), `tracestate`
 * normalized; `baggage` is read by tracehop itself, and {@link extractMessageContext} puts
 * it in the context. Made once per transport, not per message.
 */
export function safeGetter<TMessage>(read: HeaderReader<TMessage>): TextMapGetter<TMessage> {
  return new GuardedGetter(read);
}

/** Marks the getters {@link safeGetter} makes; private to this module, so it cannot be forged. */
const GUARD: unique symbol = Symbol('tracehop.w3cGuard');

/**
 * The W3C guard between a carrier and the propagator. It remembers what it read during
 * one extraction (JavaScript runs an extraction start to end without interleaving), so
 * that {@link extractMessageContext} can give the span context the `tracestate`, and the
 * context the baggage, the specifications call for, whatever the propagator made of them.
 */
class GuardedGetter<TMessage> implements W3CGuard<TMessage> {
  /** What {@link asGuard} looks for: one property read, cheaper than `instanceof`. */
  readonly [GUARD] = true;
  /** The valid `traceparent` handed to the propagator, if it asked and there was one. */
  private traceparent: string | undefined = undefined;
  /**
   * The `tracestate` read when the propagator asked for it (it reads W3C trace context) and
   * the header had valid entries.
   */
  private traceState: W3CTraceState | undefined = undefined;
  /**
   * The `baggage` read: `null` when the header had no valid member, `undefined` when the
   * propagator did not ask or there was no header.
   */
  private baggage: ParsedBaggage | null | undefined = undefined;

  constructor(private readonly read: HeaderReader<TMessage>) {}

  get(carrier: TMessage, key: string): string | undefined {
    let value: string | undefined;
    try {
      value = headerToString(this.read(carrier, key), key);
    } catch (error) {
      reportOnce(`read:${key}`, `could not read the '${key}' header: ${String(error)}`);
      value = undefined;
    }
    if (key === TRACEPARENT) {
      this.traceparent = value === undefined ? undefined : guardTraceparent(value);
      return this.traceparent;
    }
    if (key === TRACESTATE) {
      this.traceState = value === undefined ? undefined : parseTracestate(value);
      return this.traceState?.serialize();
    }
    if (key === BAGGAGE) {
      if (value !== undefined) this.baggage = parseBaggage(value) ?? null;
      // Read once, here: {@link finish} puts it in the context in place of the propagator's.
      return undefined;
    }
    return value;
  }

  keys(): string[] {
    // Propagators that enumerate keys (jaeger baggage prefixes) are not supported
    // on message carriers; the W3C ones only ask for named fields.
    return [];
  }

  /**
   * Whether `spanContext` is the one the `traceparent` handed over names: then it is valid
   * (the guard checked it) without the API's regular expressions.
   */
  carries(spanContext: SpanContext): boolean {
    const traceparent = this.traceparent;
    return (
      traceparent !== undefined &&
      spanContext.traceId.length === 32 &&
      spanContext.spanId.length === 16 &&
      isSameParent(traceparent, spanContext.traceId, spanContext.spanId)
    );
  }

  /** Forgets the previous extraction. */
  begin(): void {
    this.traceparent = undefined;
    this.traceState = undefined;
    this.baggage = undefined;
  }

  /**
   * `extracted` with the `tracestate` and baggage read under the specifications' rules, in
   * place of what the propagator made of them — only where the propagator read them: the
   * span context it continued from this message's `traceparent`, the baggage when it asked
   * for `baggage`. Allocates nothing when there was neither.
   */
  finish(extracted: Context, base: Context): Context {
    if (this.traceState !== undefined && this.traceparent !== undefined) {
      const spanContext = trace.getSpanContext(extracted);
      if (
        spanContext !== undefined &&
        spanContext.traceState !== this.traceState &&
        spanContext !== trace.getSpanContext(base) &&
        isSameParent(this.traceparent, spanContext.traceId, spanContext.spanId)
      ) {
        extracted = trace.setSpanContext(extracted, {
          traceId: spanContext.traceId,
          spanId: spanContext.spanId,
          traceFlags: spanContext.traceFlags,
          isRemote: spanContext.isRemote,
          traceState: this.traceState,
        });
      }
    }
    if (this.baggage === undefined) return extracted;
    if (this.baggage !== null) return propagation.setBaggage(extracted, toBaggage(this.baggage));
    // Nothing valid: whatever the propagator made of the header goes, the base's stays.
    const own = propagation.getBaggage(base);
    if (propagation.getBaggage(extracted) === own) return extracted;
    return own === undefined
      ? propagation.deleteBaggage(extracted)
      : propagation.setBaggage(extracted, own);
  }
}

/** What {@link extractMessageContext} needs of a guard. */
interface W3CGuard<TMessage> extends TextMapGetter<TMessage> {
  readonly [GUARD]: true;
  begin(): void;
  finish(extracted: Context, base: Context): Context;
  carries(spanContext: SpanContext): boolean;
}

/** `getter` itself when {@link safeGetter} made it, else a guard over it. */
function asGuard<TMessage>(getter: TextMapGetter<TMessage>): W3CGuard<TMessage> {
  return (getter as Partial<W3CGuard<TMessage>>)[GUARD] === true
    ? (getter as W3CGuard<TMessage>)
    : guardOver(getter);
}

// Apart from asGuard: a closure over `getter` there would cost every extraction an allocation.
function guardOver<TMessage>(getter: TextMapGetter<TMessage>): W3CGuard<TMessage> {
  return new GuardedGetter<TMessage>((carrier, key) => getter.get(carrier, key));
}

/**
 * Extracts the context a message carries on top of `base` (the active context by
 * default). Malformed, hostile or missing headers yield `base` unchanged or with
 * baggage only: the caller starts a new trace. Never throws, and never yields an
 * invalid span context.
 */
export function extractMessageContext<TMessage>(
  message: TMessage,
  getter: TextMapGetter<TMessage>,
  base: Context = contextApi.active(),
): Context {
  let extracted: Context;
  const propagator = currentPropagator();
  const guard = asGuard(getter);
  try {
    guard.begin();
    extracted = guard.finish(propagator.extract(base, message, guard), base);
  } catch (error) {
    reportOnce('extract', `could not extract trace headers: ${String(error)}`);
    return base;
  }
  // The W3C propagator only yields valid span contexts; an application's own may not.
  if (propagator === w3c) return extracted;
  const spanContext = trace.getSpanContext(extracted);
  if (spanContext !== undefined && spanContext !== trace.getSpanContext(base)) {
    if (!guard.carries(spanContext) && !trace.isSpanContextValid(spanContext)) {
      return trace.deleteSpan(extracted);
    }
  }
  return extracted;
}
