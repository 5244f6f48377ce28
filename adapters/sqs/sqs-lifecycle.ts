import type { Message } from '@aws-sdk/client-sqs';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { reportOnce } from '../../src/report.js';
import { byReceiptHandle, receivedFrom } from './in-flight.js';
import type { SqsAwaitSettle } from './types.js';

/**
 * When a finished handler's span waits for the message to be settled:
 * - `returned-message`: the handler returned the message or an object with its `MessageId`
 *   (sqs-consumer's `handleMessage` contract for "delete it");
 * - `succeeded`: the handler did not throw (the batch decorator returns those messages
 *   to sqs-consumer, which deletes them);
 * - `always` / `never`.
 */
type SettleRule = 'returned-message' | 'succeeded' | 'always' | 'never';

/**
 * SQS's part of the message lifecycle: the caller (sqs-consumer, a receive loop) awaits
 * the handler, so errors are rethrown; a `DeleteMessage` or `ChangeMessageVisibility`
 * finds the span by receipt handle — seen only when made through an instrumented client,
 * so a span waits for it only for messages received through one (the client that
 * received a message is the one that deletes it, in sqs-consumer and in most loops).
 */
export class SqsLifecycle implements ConsumerLifecycle<Message> {
  readonly callerAwaits = true;
  private readonly rule: SettleRule;

  constructor(awaitSettle: SqsAwaitSettle | undefined, batch: boolean) {
    switch (awaitSettle ?? 'returned') {
      case 'always':
        this.rule = 'always';
        break;
      case 'never':
        this.rule = 'never';
        break;
      default:
        this.rule = batch ? 'succeeded' : 'returned-message';
    }
  }

  track(message: Message, scope: ProcessScope): boolean {
    const handle: unknown = message?.ReceiptHandle;
    if (typeof handle !== 'string') return false;
    if (receivedFrom(message) === undefined) {
      if (this.rule !== 'never') {
        reportOnce(
          'sqs:unseen-settle',
          'a traced SQS handler got a message not received through an instrumented client, so ' +
            'its delete cannot be seen: its process span ends with the handler. Instrument the ' +
            'client that receives and deletes (instrumentSqsClient) to record deletes.',
        );
      }
      return false;
    }
    byReceiptHandle.track(handle, scope);
    return true;
  }

  awaitsSettle(message: Message, failed: boolean, result: unknown): boolean {
    switch (this.rule) {
      case 'never':
        return false;
      case 'always':
        return true;
      case 'succeeded':
        return !failed;
      case 'returned-message':
        return (
          !failed &&
          typeof result === 'object' &&
          result !== null &&
          (result as { MessageId?: unknown }).MessageId === message?.MessageId
        );
    }
  }
}

/** Lambda deletes the records itself: the caller awaits, nothing is settled through tracehop. */
export const lambdaLifecycle: ConsumerLifecycle<unknown> = Object.freeze({ callerAwaits: true });
