import {
  context as contextApi,
  propagation,
  trace,
  type Context,
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
 * or `undefined` (see {@link headerToString}) and never throws. Made once per
 * transport, not per message.
 */
export function safeGetter<TMessage>(read: HeaderReader<TMessage>): TextMapGetter<TMessage> {
  return {
    get(carrier, key) {
      try {
        return headerToString(read(carrier, key), key);
      } catch (error) {
        reportOnce(`read:${key}`, `could not read the '${key}' header: ${String(error)}`);
        return undefined;
      }
    },
    keys() {
      // Propagators that enumerate keys (jaeger baggage prefixes) are not supported
      // on message carriers; the W3C ones only ask for named fields.
      return [];
    },
  };
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
  try {
    extracted = propagator.extract(base, message, getter);
  } catch (error) {
    reportOnce('extract', `could not extract trace headers: ${String(error)}`);
    return base;
  }
  // The W3C propagator only yields valid span contexts; an application's own may not.
  if (propagator === w3c) return extracted;
  const spanContext = trace.getSpanContext(extracted);
  if (spanContext !== undefined && spanContext !== trace.getSpanContext(base)) {
    if (!trace.isSpanContextValid(spanContext)) {
      return trace.deleteSpan(extracted);
    }
  }
  return extracted;
}
