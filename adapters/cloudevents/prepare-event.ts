import { withTraceContext } from './trace-context.js';
import type { CloudEventLike, EncodeOptions } from './types.js';

/** The event to encode: with its creation context added unless the caller said not to. */
export function prepareEvent<E extends CloudEventLike>(
  event: E,
  traceContext: EncodeOptions['traceContext'],
): E {
  if (traceContext === false) return event;
  return withTraceContext(
    event,
    traceContext === true || traceContext === undefined ? {} : traceContext,
  );
}
