import { trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { MAX_HEADER_LENGTH } from '../../src/header-value.js';
import { TRACEPARENT, TRACESTATE } from '../../src/propagation.js';
import { fromTraceparent } from '../../src/span-context-text.js';
import { looksLikeEvent, modeOf, parseStructured, type ReceivedParts } from './event-codec.js';
import type { TraceHeaderName } from './types.js';

/** The Distributed Tracing extension of one received event, validated. */
interface TraceExtension {
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

const NONE: TraceExtension = Object.freeze({ traceparent: undefined, tracestate: undefined });

/**
 * The extension of each structured-mode message already parsed, so that asking for
 * `traceparent` and then `tracestate` parses the body once. Keyed by the message object, so an
 * entry lives exactly as long as the message.
 */
const parsedBodies = new WeakMap<object, TraceExtension>();

/**
 * The Distributed Tracing extension value `name` of the event a received message carries,
 * read from its binary-mode attributes or its structured-mode body, or `undefined` when there
 * is none or it is malformed; see `CloudEventBinding.traceHeader`. Never throws: `read`
 * failing on a hostile message is caught by the caller.
 */
export function readTraceHeader<TIn>(
  message: TIn,
  read: (message: TIn) => ReceivedParts,
  name: TraceHeaderName,
): string | undefined {
  const key = typeof message === 'object' && message !== null ? message : undefined;
  const cached = key === undefined ? undefined : parsedBodies.get(key);
  if (cached !== undefined) return cached[name];
  const parts = read(message);
  switch (modeOf(parts.contentType)) {
    case 'binary':
      return looksLikeEvent(parts.attributes)
        ? validated(parts.attributes[TRACEPARENT], parts.attributes[TRACESTATE])[name]
        : undefined;
    case 'structured': {
      const extension = structuredExtension(parts);
      if (key !== undefined) parsedBodies.set(key, extension);
      return extension[name];
    }
    default:
      // A batch holds many events, each with its own extension: none is the message's.
      return undefined;
  }
}

function structuredExtension(parts: ReceivedParts): TraceExtension {
  let event: Readonly<Record<string, unknown>>;
  try {
    event = parseStructured(parts.contentType as string, parts.body);
  } catch {
    // Not JSON, not an object, another format: no extension here. Decoding the message
    // reports the problem, not reading its trace context.
    return NONE;
  }
  return validated(event[TRACEPARENT], event[TRACESTATE]);
}

/**
 * The extension when its `traceparent` is a valid W3C value; its `tracestate` too when that
 * has at least one valid member. Strings only: the extension's attributes are of type String.
 */
function validated(traceparent: unknown, tracestate: unknown): TraceExtension {
  if (!isBoundedString(traceparent)) return NONE;
  const spanContext = fromTraceparent(traceparent);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return NONE;
  const state =
    isBoundedString(tracestate) && new TraceState(tracestate).serialize() !== ''
      ? tracestate
      : undefined;
  return { traceparent, tracestate: state };
}

function isBoundedString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_HEADER_LENGTH;
}
