import type { Message } from '@aws-sdk/client-sqs';
import type { ConsumerOptions, TracingOptions } from '../../src/options.js';

/** Options of {@link instrumentSqsClient}. */
export interface SqsClientOptions extends TracingOptions {
  /**
   * Give every entry of a `SendMessageBatch` its own `create` span (PRODUCER), whose
   * context that entry carries, and make the batch's `send` span (CLIENT) link to them,
   * as the messaging semantic conventions describe batches. Each consumer's `process`
   * span then hangs under its own message's `create` span. With `false`, the batch gets
   * one `send` span (PRODUCER) and every entry carries its context: 9 fewer spans per
   * full batch, but all the messages look alike in the trace. The spans start when the
   * call is made and end when SQS has answered, with the message id or the entry's
   * failure recorded on each.
   * @defaultValue true
   */
  readonly createSpans?: boolean;
  /**
   * The largest message, and the largest `SendMessageBatch` payload, SQS accepts for the
   * queues this client sends to, in bytes (body plus every message attribute's name, type
   * and value). tracehop adds trace attributes only while they fit under it, and otherwise
   * carries the context in the `AWSTraceHeader` system attribute, which does not count.
   * Raise it for queues whose `MaximumMessageSize` is larger (up to 1 MiB), lower it for
   * smaller ones.
   * @defaultValue 262 144 (256 KiB, see
   * {@link https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html | SQS message quotas})
   */
  readonly maxMessageBytes?: number;
  /**
   * Make `ReceiveMessage` return what tracehop needs even when the caller did not ask for
   * it: the propagator's fields (`traceparent`, `tracestate`, `baggage`) and their common
   * other spellings (`TraceParent`, `Traceparent`, `TRACEPARENT`, `TraceState`, `Tracestate`,
   * `TRACESTATE`, `Baggage`, `BAGGAGE` — SQS matches names case-sensitively, tracehop reads
   * them in any case) are added to `MessageAttributeNames`, and `AWSTraceHeader`,
   * `ApproximateReceiveCount` and `SentTimestamp` (for the queue time,
   * `tracehop.message.queue_time`) to `MessageSystemAttributeNames` — on a copy of the
   * input, and only where the caller did not already ask for `All`. The caller then sees
   * these entries in the received messages' `MessageAttributes` and `Attributes` too.
   * Without them SQS does not return the trace context, and every `process` span starts a
   * new trace.
   * @defaultValue true
   */
  readonly requestTraceAttributes?: boolean;
}

/**
 * When a handler decorator's `process` span ends, relative to the message being
 * deleted or its visibility changed through an instrumented client (recorded on the
 * span as `delete` / `change_visibility` events):
 * - `'returned'`: when the handler has finished, or — if it returned the message (or an
 *   object with its `MessageId`), which is how sqs-consumer's `handleMessage` says
 *   "delete it" — once the `DeleteMessage` that follows has returned. For the batch
 *   decorator, every message whose handler succeeded is returned to sqs-consumer, so
 *   those wait for the `DeleteMessageBatch`.
 * - `'always'`: once the handler has finished and the message was deleted or its
 *   visibility changed afterwards, also after a failure: for hand-written loops that
 *   settle every message after its handler.
 * - `'never'`: when the handler has finished; a later delete is not recorded.
 * A delete or visibility change made while the handler still runs is recorded either way;
 * a visibility change then counts as extending the lease, not as settling. A settle that
 * never comes ends the span after `settleTimeoutMs`, marked `tracehop.process.timed_out`.
 */
export type SqsAwaitSettle = 'returned' | 'always' | 'never';

/** Options of {@link traceSqsHandler}. */
export interface SqsHandlerOptions extends ConsumerOptions<Message> {
  /**
   * The URL of the queue the handler's messages come from, for the `process` span's name
   * and attributes. Not needed when the messages were received through an instrumented
   * client, which remembers where each message came from.
   * @defaultValue the queue the instrumented client received the message from; else none
   * (the span is named `process`)
   */
  readonly queueUrl?: string;
  /**
   * When the `process` span ends; see {@link SqsAwaitSettle}.
   * @defaultValue `'returned'` (sqs-consumer's contract)
   */
  readonly awaitSettle?: SqsAwaitSettle;
}

/** Options of {@link traceSqsBatchHandler}. */
export interface SqsBatchHandlerOptions extends SqsHandlerOptions {
  /**
   * Run the handler for all the batch's messages at once instead of one after the other.
   * Ignored for FIFO queues (URL ending in `.fifo`, or messages with a `MessageGroupId`),
   * whose order must hold: there a failed message also stops the rest of the batch, which
   * is then left for redelivery, as AWS advises for FIFO batches.
   * @defaultValue false
   */
  readonly parallel?: boolean;
}

/** Options of {@link traceLambdaSqsHandler}. */
export interface LambdaSqsHandlerOptions extends ConsumerOptions<LambdaSqsRecord> {
  /**
   * Answer with a partial batch failure response, `{ batchItemFailures: [{ itemIdentifier }] }`
   * listing the records whose handler threw, so that Lambda deletes the others and only
   * the failed ones come back. The event source mapping must have
   * `FunctionResponseTypes: ['ReportBatchItemFailures']`: without it Lambda ignores the
   * response and deletes every record, the failed ones too. With `false`, the first error
   * is rethrown unchanged (after the records that were running have finished) and the
   * whole batch comes back, as with an undecorated handler.
   * @defaultValue true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Run the handler for all the records at once instead of one after the other. Ignored
   * for FIFO queues (`eventSourceARN` ending in `.fifo`), where the first failure also
   * marks every later record as failed without running it, as AWS requires for FIFO.
   * @defaultValue false
   */
  readonly parallel?: boolean;
  /**
   * Before the invocation returns, flush the tracer provider and the meter provider so that
   * no span or metric waits in a processor or reader while Lambda freezes the environment; wait at most this many
   * milliseconds, and never closer than 500 ms to the invocation's deadline. 0 disables it.
   * @defaultValue 5000
   */
  readonly flushTimeoutMs?: number;
}

/** A message attribute as Lambda delivers it in an SQS event record. */
export interface LambdaSqsMessageAttribute {
  stringValue?: string | undefined;
  /** Base64, as Lambda encodes binary attribute values. */
  binaryValue?: string | undefined;
  stringListValues?: string[] | undefined;
  binaryListValues?: string[] | undefined;
  dataType: string;
}

/**
 * One record of a Lambda SQS event, as AWS documents it (the shape of `SQSRecord` in
 * `@types/aws-lambda`, which is assignable to it).
 */
export interface LambdaSqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: {
    AWSTraceHeader?: string | undefined;
    ApproximateReceiveCount?: string | undefined;
    SentTimestamp?: string | undefined;
    MessageGroupId?: string | undefined;
    MessageDeduplicationId?: string | undefined;
  };
  messageAttributes: Record<string, LambdaSqsMessageAttribute | undefined>;
  md5OfBody?: string | undefined;
  eventSource?: string | undefined;
  eventSourceARN: string;
  awsRegion?: string | undefined;
}

/** A Lambda SQS event (the shape of `SQSEvent` in `@types/aws-lambda`). */
export interface LambdaSqsEvent {
  Records: LambdaSqsRecord[];
}

/** A partial batch failure response (the shape of `SQSBatchResponse` in `@types/aws-lambda`). */
export interface LambdaSqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** What tracehop uses of Lambda's invocation context, when it is given one. */
export interface LambdaContextLike {
  getRemainingTimeInMillis?(): number;
}
