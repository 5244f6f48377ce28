/**
 * The queue each received message came from. An SQS `Message` does not say which queue
 * it is from; an instrumented client knows, because it made the `ReceiveMessage` call,
 * and tells the handler decorators through this map, so that `process` spans carry the
 * queue's name and URL without the handler being told. A WeakMap: the message objects
 * are the SDK's, and tracehop never keeps them alive.
 *
 * @packageDocumentation
 */

const queueUrlOfMessage = new WeakMap<object, string>();

/** Records that `messages` were received from `queueUrl`. */
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
