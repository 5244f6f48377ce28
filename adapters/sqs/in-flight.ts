/**
 * What tracehop knows about SQS messages between the calls that touch them, in the
 * process-wide registry (so that it holds when tracehop is loaded both as ESM and as
 * CommonJS): which queue each received message came from, and the `process` span of each
 * message being handled, by receipt handle — all a `DeleteMessage` or
 * `ChangeMessageVisibility` call says about its message.
 *
 * @packageDocumentation
 */
import { shared } from '../../src/registry.js';
import { SettleIndex } from '../../src/settle-index.js';

/**
 * The queue each message received through an instrumented client came from. An SQS
 * `Message` does not say; the client that made the `ReceiveMessage` call does, and tells
 * the handler decorators through this map, so that `process` spans carry the queue's name
 * and URL, and so that a decorator knows the message's delete will be seen. A WeakMap:
 * the message objects are the SDK's, and tracehop never keeps them alive.
 */
const queueUrlOfMessage = shared('sqs.queueUrlOfMessage', () => new WeakMap<object, string>());

/** The `process` scopes of messages being handled, by receipt handle, until their span ends. */
export const byReceiptHandle: SettleIndex<string> = shared(
  'sqs.byReceiptHandle',
  () => new SettleIndex<string>(),
);

/** Records that `messages` were received from `queueUrl` through an instrumented client. */
export function rememberQueueUrl(messages: readonly unknown[], queueUrl: string): void {
  for (const message of messages) {
    if (typeof message === 'object' && message !== null) queueUrlOfMessage.set(message, queueUrl);
  }
}

/** The queue URL a message was received from through an instrumented client, if it was. */
export function receivedFrom(message: unknown): string | undefined {
  return typeof message === 'object' && message !== null
    ? queueUrlOfMessage.get(message)
    : undefined;
}
