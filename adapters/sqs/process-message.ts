import { context as contextApi } from '@opentelemetry/api';
import type { Message } from '@aws-sdk/client-sqs';
import { isPromiseLike } from '../../src/errors.js';
import type { MessagingTracer } from '../../src/messaging-tracer.js';
import { reportOnce } from '../../src/report.js';
import { InFlightMessage, track } from './in-flight.js';
import type { SqsOutgoingMessage } from './outgoing-message.js';
import type { SqsAwaitSettle } from './types.js';

/**
 * When a finished handler's span waits for the message to be settled:
 * - `returned-message`: the handler returned the message or an object with its `MessageId`
 *   (sqs-consumer's `handleMessage` contract for "delete it");
 * - `succeeded`: the handler did not throw (the batch decorator returns those messages
 *   to sqs-consumer, which deletes them);
 * - `always` / `never`.
 */
export type SettleRule = 'returned-message' | 'succeeded' | 'always' | 'never';

/** The rule for a decorator's `awaitSettle` option. */
export function settleRule(awaitSettle: SqsAwaitSettle | undefined, batch: boolean): SettleRule {
  switch (awaitSettle ?? 'returned') {
    case 'always':
      return 'always';
    case 'never':
      return 'never';
    default:
      return batch ? 'succeeded' : 'returned-message';
  }
}

/**
 * Runs `handler(message)` inside the message's `process` span, sync or async, and
 * passes its result or error through unchanged. The span ends when the handler has
 * finished or, by `rule`, once the message has been deleted or its visibility changed
 * through an instrumented client. If tracehop itself fails, the handler runs untraced.
 */
export function processSqsMessage<R>(
  tracer: MessagingTracer<SqsOutgoingMessage, Message>,
  message: Message,
  handler: (message: Message) => R,
  rule: SettleRule,
): R {
  let inFlight: InFlightMessage;
  try {
    // Not findable by message: tracehop finds it by receipt handle (see in-flight.ts).
    const scope = tracer.startProcess(message, false, false);
    const handle = message?.ReceiptHandle;
    inFlight = new InFlightMessage(scope, typeof handle === 'string' ? handle : undefined);
    track(inFlight);
  } catch (error) {
    reportOnce('sqs:process', `processed an SQS message without a span: ${String(error)}`);
    return handler(message);
  }
  let result: R;
  try {
    result = contextApi.with(inFlight.scope.context, handler, undefined, message);
  } catch (error) {
    inFlight.handlerFinished(error, rule === 'always');
    throw error;
  }
  if (isPromiseLike(result)) {
    return result.then(
      (value) => {
        inFlight.handlerFinished(undefined, waitsAfterSuccess(rule, message, value));
        return value;
      },
      (error: unknown) => {
        inFlight.handlerFinished(error, rule === 'always');
        throw error;
      },
    ) as R;
  }
  inFlight.handlerFinished(undefined, waitsAfterSuccess(rule, message, result));
  return result;
}

function waitsAfterSuccess(rule: SettleRule, message: Message, value: unknown): boolean {
  if (rule !== 'returned-message') return rule !== 'never';
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { MessageId?: unknown }).MessageId === message?.MessageId
  );
}
