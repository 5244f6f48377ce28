import type { RawChannel } from './internal-types.js';

// Weak, so that tracehop never keeps a channel or handler alive.
const rawOfWrapper = new WeakMap<object, RawChannel>();
const tracedHandlers = new WeakSet<object>();

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
