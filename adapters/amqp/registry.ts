import { shared } from '../../src/registry.js';
import type { RawChannel } from './internal-types.js';

// Weak, so that tracehop never keeps a channel or handler alive; in the process-wide
// registry, so that a wrapper made by one copy of tracehop (ESM or CommonJS) is known to
// the other, and a decorated handler is not traced twice by a wrapper of the other copy.
const rawOfWrapper = shared('amqp.wrappers', () => new WeakMap<object, RawChannel>());
const tracedHandlers = shared('amqp.tracedHandlers', () => new WeakSet<object>());

/** Records that `wrapper` is tracehop's wrapper of `raw`. */
export function registerWrapper(wrapper: object, raw: RawChannel): void {
  rawOfWrapper.set(wrapper, raw);
}

/** Whether `channel` is a wrapper made by `traceChannel`. */
export function isTracedChannel(channel: object): boolean {
  return rawOfWrapper.has(channel);
}

/** The amqplib channel under a `traceChannel` wrapper, or `channel` itself. */
export function rawChannelOf(channel: object): RawChannel {
  // Not a wrapper: it is the amqplib channel, which has every method RawChannel names.
  return rawOfWrapper.get(channel) ?? (channel as RawChannel);
}

/** Records that `handler` was made by `traceAmqpHandler` and traces on its own. */
export function markTracedHandler(handler: object): void {
  tracedHandlers.add(handler);
}

/** Whether `handler` was made by `traceAmqpHandler`: a wrapped `consume` then leaves it as is. */
export function isTracedHandler(handler: unknown): boolean {
  return typeof handler === 'function' && tracedHandlers.has(handler);
}
