import type { Attributes } from '@opentelemetry/api';
import type { PublishBatchInput, PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { BatchCommand, BatchTarget } from '../sqs/batch-send.js';
import type { SnsOutgoingMessage } from './internal-types.js';
import type { SnsClientTracing } from './sns-client-tracing.js';
import { describeSnsTarget, snsBatchClearlyFits, snsMessageBytesExact } from './sns-transport.js';

/**
 * SNS's `PublishBatch`, traced as every AWS batch command is (`tracedBatchSend`, shared with
 * SQS's `SendMessageBatch`): a `create` span per entry and a `send` span linking them, or one
 * `send` span with `createSpans: false`, all named after the topic. One per instrumented
 * client.
 */
export class PublishBatch implements BatchCommand<
  PublishBatchInput,
  PublishBatchRequestEntry,
  SnsOutgoingMessage
> {
  readonly name = 'SNS PublishBatch';
  readonly reportKey = 'sns:publish-batch';
  readonly clearlyFits = snsBatchClearlyFits;
  readonly messageBytes = snsMessageBytesExact;

  constructor(readonly tracing: SnsClientTracing) {}

  entriesOf(input: PublishBatchInput): unknown {
    return input.PublishBatchRequestEntries;
  }

  withEntries(input: PublishBatchInput, entries: PublishBatchRequestEntry[]): PublishBatchInput {
    return { ...input, PublishBatchRequestEntries: entries };
  }

  describe(input: PublishBatchInput): BatchTarget {
    const topic: Attributes = {};
    const destination = describeSnsTarget(input.TopicArn, topic);
    return { destination, entry: topic, entryDetails: undefined, call: topic };
  }
}
