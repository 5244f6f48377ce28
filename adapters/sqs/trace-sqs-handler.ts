import type { Message } from '@aws-sdk/client-sqs';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-size.js';
import { SqsLifecycle } from './sqs-lifecycle.js';
import { SqsTransport } from './sqs-transport.js';
import type { SqsHandlerOptions } from './types.js';

/**
 * Decorates a handler of one SQS message so that it runs inside the message's
 * `process {queue}` span (CONSUMER), with the producer's trace context active: its own
 * spans, HTTP calls and log lines join the trace. Usable as sqs-consumer's
 * `handleMessage` and in a hand-written receive loop.
 *
 * The span starts when the decorated function is called. With relation `child` (the
 * default) it is a child of the message's creation context and links to it; with
 * `link`, it starts a new trace that links to it. The context is read, in this order,
 * from the `traceparent` message attribute, the `AWSTraceHeader` system attribute, and
 * an SNS envelope in the body; a message without a valid one is processed on a new trace.
 * The span ends when the handler has finished — or later, once the message is deleted,
 * see {@link SqsHandlerOptions.awaitSettle}. The handler's result or error is passed
 * through unchanged (an error is also recorded on the span), sync or async.
 *
 * @example
 * ```ts
 * Consumer.create({
 *   queueUrl,
 *   sqs: instrumentSqsClient(new SQSClient({})),
 *   handleMessage: traceSqsHandler(async (message) => {
 *     await handleOrder(JSON.parse(message.Body ?? '{}'));
 *     return message; // sqs-consumer deletes it; the span records the delete
 *   }),
 * });
 * ```
 */
export function traceSqsHandler<R>(
  handler: (message: Message) => R,
  options: SqsHandlerOptions = {},
): (message: Message) => R {
  const tracer = new ConsumerTracer<Message>(
    new SqsTransport(DEFAULT_MAX_MESSAGE_BYTES, options.queueUrl),
    options,
  );
  const lifecycle = new SqsLifecycle(options.awaitSettle, false);
  return (message) => tracer.process(message, lifecycle, handler, undefined, undefined);
}
