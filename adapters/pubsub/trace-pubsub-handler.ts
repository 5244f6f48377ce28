import { PubSubProcessor } from './pubsub-processor.js';
import type { PubSubHandlerOptions, PubSubMessage } from './types.js';

/**
 * Decorates a `subscription.on('message', …)` handler: each message gets one
 * `subscribe {subscription}` span (CONSUMER, `messaging.operation.type = process`), active
 * while the handler runs — synchronously and through everything it awaits — so the
 * handler's own spans, HTTP calls and log lines join the message's trace.
 *
 * The span is a child of the context the message was created in (tracehop's `traceparent`
 * attribute, or the client's own `googclient_traceparent` when there is no plain one) and
 * links to it; with `relation: 'link'` it starts a new trace with only the link. A message
 * without a valid context is processed on a new trace.
 *
 * The handler receives a proxy of the message whose `ack()`, `nack()`, `modAck()` and
 * `…WithResponse()` call the message's own and record the settlement as an event on the span
 * (with the answer, for the `…WithResponse` calls). The span ends when the handler has
 * finished and the message is acked or nacked, whichever is later; a message never settled
 * has its span ended `settleTimeoutMs` after its handler finished. The handler's result
 * passes through unchanged and an error is recorded on the span; the client's `message`
 * event ignores what listeners return, so a rejected promise resolves instead and its error
 * goes to `onError`, while a synchronous throw is rethrown unchanged (with `autoSettle`,
 * both become the nack, then `onError`).
 */
export function tracePubSubHandler<M extends PubSubMessage, R>(
  handler: (message: M) => R,
  options: PubSubHandlerOptions,
): (message: M) => R {
  const processor = new PubSubProcessor<M>(options);
  return function tracedPubSubHandler(this: unknown, message: M): R {
    return processor.run(message, handler, this);
  };
}
