import type { Attributes } from '@opentelemetry/api';
import type { SendMessageBatchRequest, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { BatchCommand, BatchTarget } from './batch-send.js';
import { batchClearlyFits, messageBytesExact } from './message-size.js';
import type { SqsClientTracing } from './instrument-sqs-client.js';
import type { SqsOutgoingMessage } from './internal-types.js';
import { addQueueUrl, describeQueue, serverAttributes } from './sqs-transport.js';

/**
 * SQS's `SendMessageBatch`, traced as every AWS batch command is (`tracedBatchSend`): a
 * `create` span per entry and a `send` span linking them, or one `send` span with
 * `createSpans: false`. Each entry's `create` span starts with the queue's name only and gets
 * the queue's URL when it records; the batch's `send` span also names the server. One per
 * instrumented client.
 */
export class SendMessageBatch implements BatchCommand<
  SendMessageBatchRequest,
  SendMessageBatchRequestEntry,
  SqsOutgoingMessage
> {
  readonly name = 'SQS SendMessageBatch';
  readonly reportKey = 'sqs:send-batch';
  readonly clearlyFits = batchClearlyFits;
  readonly messageBytes = messageBytesExact;

  constructor(readonly tracing: SqsClientTracing) {}

  entriesOf(input: SendMessageBatchRequest): unknown {
    return input.Entries;
  }

  withEntries(
    input: SendMessageBatchRequest,
    entries: SendMessageBatchRequestEntry[],
  ): SendMessageBatchRequest {
    return { ...input, Entries: entries };
  }

  describe(input: SendMessageBatchRequest): BatchTarget {
    const entry: Attributes = {};
    const destination = describeQueue(input.QueueUrl, entry, false, false);
    const url: Attributes = {};
    addQueueUrl(input.QueueUrl, url);
    return {
      destination,
      entry,
      entryDetails: url,
      call: serverAttributes(input.QueueUrl, { ...entry, ...url }),
    };
  }
}
