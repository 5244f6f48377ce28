import type { Message } from '@aws-sdk/client-sqs';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { receivedFrom } from './in-flight.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-size.js';
import { isFifoQueue } from './queue-info.js';
import { runBatch } from './run-batch.js';
import { SqsLifecycle } from './sqs-lifecycle.js';
import { SqsTransport } from './sqs-transport.js';
import type { SqsBatchHandlerOptions } from './types.js';

/**
 * Turns a handler of one SQS message into a batch handler — sqs-consumer's
 * `handleMessageBatch` — that runs every message in its own `process {queue}` span
 * (CONSUMER) with that message's trace context active, as {@link traceSqsHandler} does
 * for one. A batch is one call, but its messages come from different producers: one span
 * per message keeps each in its own trace.
 *
 * Resolves with the messages whose handler succeeded, which sqs-consumer then deletes
 * (recorded on their spans); failed ones are left on the queue for redelivery, their
 * error recorded on their span. If none succeeded, the first error is rethrown unchanged,
 * as an undecorated batch handler would throw, so sqs-consumer's `error` event and
 * `terminateVisibilityTimeout` apply. Messages run one after the other unless
 * {@link SqsBatchHandlerOptions.parallel}; FIFO batches always in order, stopping at the
 * first failure.
 */
export function traceSqsBatchHandler(
  handler: (message: Message) => unknown,
  options: SqsBatchHandlerOptions = {},
): (messages: Message[]) => Promise<Message[]> {
  const tracer = new ConsumerTracer<Message>(
    new SqsTransport(DEFAULT_MAX_MESSAGE_BYTES, options.queueUrl),
    options,
  );
  const lifecycle = new SqsLifecycle(options.awaitSettle, true);
  const parallel = options.parallel ?? false;
  const run = (message: Message) =>
    tracer.process(message, lifecycle, handler, undefined, undefined);
  return async (messages) => {
    const list: readonly Message[] = Array.isArray(messages) ? messages : [];
    const outcome = await runBatch(list, run, parallel, isFifoBatch(list, options.queueUrl));
    if (outcome.failures === 0) return list as Message[];
    if (outcome.failures === list.length) throw outcome.firstError;
    return list.filter((_, index) => !outcome.failed[index]);
  };
}

function isFifoBatch(messages: readonly Message[], queueUrl: string | undefined): boolean {
  const first = messages[0];
  if (typeof first !== 'object' || first === null) return false;
  return (
    isFifoQueue(receivedFrom(first) ?? queueUrl) || first.Attributes?.MessageGroupId !== undefined
  );
}
