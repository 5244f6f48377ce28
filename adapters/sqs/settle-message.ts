import { context as contextApi, type Attributes } from '@opentelemetry/api';
import type {
  BatchResultErrorEntry,
  ChangeMessageVisibilityBatchRequestEntry,
  ChangeMessageVisibilityRequest,
} from '@aws-sdk/client-sqs';
import { errorType } from '../../src/errors.js';
import { ATTR_AWS_REQUEST_ID, ATTR_ERROR_TYPE } from '../../src/semconv.js';
import { ATTR_SQS_VISIBILITY_TIMEOUT } from './attributes.js';
import type { SettleTarget } from '../../src/settle-index.js';
import { byReceiptHandle } from './in-flight.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';
import { requestIdOf, safely } from './call-outcome.js';

/** The SQS calls recorded as settling a message, named as the span events are. */
export type SqsSettleOperation = 'delete' | 'change_visibility';

/**
 * The message being handled (or recently timed out) with this receipt handle. A visibility
 * change while its handler still runs extends the lease: it is recorded as an event there
 * and does not settle the message.
 */
function inFlight(receiptHandle: unknown): SettleTarget | undefined {
  return typeof receiptHandle === 'string' ? byReceiptHandle.find(receiptHandle) : undefined;
}

/**
 * Records a settle call's outcome on the message's span, and how long the call took
 * (`seconds`, for `messaging.client.operation.duration`; `undefined` for the other entries
 * of a batch call, which is one operation).
 */
function recordSettle(
  target: SettleTarget,
  operation: SqsSettleOperation,
  error: unknown,
  attributes: Attributes | undefined,
  seconds: number | undefined,
): void {
  const open = target.openScope();
  if (operation === 'change_visibility' && open?.handlerRunning === true) {
    const failure = error === undefined ? undefined : { [ATTR_ERROR_TYPE]: errorType(error) };
    open.addSettleEvent(operation, { ...attributes, ...failure });
    return;
  }
  target.settle(operation, error, attributes, seconds);
}

/** Seconds since `started` (a `performance.now()` reading). */
function since(started: number): number {
  return (performance.now() - started) / 1000;
}

/**
 * `DeleteMessage` and `ChangeMessageVisibility` of a message a handler decorator is
 * processing: recorded, once SQS has answered, as a `delete` / `change_visibility` event
 * on its `process` span (SQS has no settle span in the semantic conventions), which may
 * then end. The call runs in the `process` span's context. Calls for other messages pass
 * straight through.
 */
export function tracedSettle(
  next: InitializeHandler,
  args: InitializeArgs,
  operation: SqsSettleOperation,
): Promise<InitializeResult> {
  if (byReceiptHandle.isEmpty) return next(args);
  const input = args.input as ChangeMessageVisibilityRequest;
  const message = inFlight(input.ReceiptHandle);
  if (message === undefined) return next(args);
  return settleAfterCall(next, args, message, operation, input.VisibilityTimeout);
}

async function settleAfterCall(
  next: InitializeHandler,
  args: InitializeArgs,
  message: SettleTarget,
  operation: SqsSettleOperation,
  visibilityTimeout: unknown,
): Promise<InitializeResult> {
  let result: InitializeResult;
  const started = performance.now();
  try {
    // The call runs in the `process` span's context while that span is open.
    const open = message.openScope();
    result =
      open === undefined
        ? await next(args)
        : await contextApi.with(open.context, next, undefined, args);
  } catch (error) {
    const seconds = since(started);
    safely(operation, () =>
      recordSettle(message, operation, error, settleAttributes(error, visibilityTimeout), seconds),
    );
    throw error;
  }
  const seconds = since(started);
  safely(operation, () =>
    recordSettle(
      message,
      operation,
      undefined,
      settleAttributes(result.output, visibilityTimeout),
      seconds,
    ),
  );
  return result;
}

/** One batch entry that belongs to a message being processed. */
interface SettledEntry {
  readonly id: unknown;
  readonly message: SettleTarget;
  readonly visibilityTimeout: unknown;
}

/**
 * `DeleteMessageBatch` and `ChangeMessageVisibilityBatch`: each entry that belongs to a
 * message being processed is recorded on that message's `process` span, with the entry's
 * own failure (`error.type` = SQS's code) when SQS refused that one.
 */
export function tracedSettleBatch(
  next: InitializeHandler,
  args: InitializeArgs,
  operation: SqsSettleOperation,
): Promise<InitializeResult> {
  if (byReceiptHandle.isEmpty) return next(args);
  const entries = (args.input as { Entries?: unknown }).Entries;
  if (!Array.isArray(entries)) return next(args);
  let found: SettledEntry[] | undefined;
  for (const entry of entries as (ChangeMessageVisibilityBatchRequestEntry | undefined)[]) {
    const message = inFlight(entry?.ReceiptHandle);
    if (message === undefined) continue;
    (found ??= []).push({ id: entry?.Id, message, visibilityTimeout: entry?.VisibilityTimeout });
  }
  if (found === undefined) return next(args);
  return settleBatchAfterCall(next, args, found, operation);
}

async function settleBatchAfterCall(
  next: InitializeHandler,
  args: InitializeArgs,
  found: readonly SettledEntry[],
  operation: SqsSettleOperation,
): Promise<InitializeResult> {
  let result: InitializeResult;
  const started = performance.now();
  try {
    result = await next(args);
  } catch (error) {
    const seconds = since(started);
    safely(operation, () => {
      const shared = settleAttributes(error, undefined);
      for (const entry of found) {
        const measured = entry === found[0] ? seconds : undefined;
        recordSettle(
          entry.message,
          operation,
          error,
          entryAttributes(shared, error, entry),
          measured,
        );
      }
    });
    throw error;
  }
  const seconds = since(started);
  safely(operation, () => {
    const output = result.output as { Failed?: BatchResultErrorEntry[] } | undefined;
    const failed = output?.Failed;
    // One request id for the whole call: the attributes are built once, not per message.
    const shared = settleAttributes(output, undefined);
    const failures = found.map((entry) =>
      failed === undefined || failed.length === 0
        ? undefined
        : failed.find((candidate) => candidate.Id === entry.id),
    );
    // One call, one duration: recorded once, with the first entry SQS did not refuse (the
    // call succeeded), or with the first entry when it refused them all.
    const measured = Math.max(0, failures.indexOf(undefined));
    for (const [index, entry] of found.entries()) {
      const failure = failures[index];
      recordSettle(
        entry.message,
        operation,
        failure === undefined ? undefined : entryError(failure),
        entryAttributes(shared, output, entry),
        index === measured ? seconds : undefined,
      );
    }
  });
  return result;
}

/** The shared attributes, or (for visibility changes) the entry's own with its timeout. */
function entryAttributes(
  shared: Attributes | undefined,
  answer: unknown,
  entry: SettledEntry,
): Attributes | undefined {
  return entry.visibilityTimeout === undefined
    ? shared
    : settleAttributes(answer, entry.visibilityTimeout);
}

function settleAttributes(answer: unknown, visibilityTimeout: unknown): Attributes | undefined {
  const requestId = requestIdOf(answer);
  const hasTimeout = typeof visibilityTimeout === 'number';
  if (requestId === undefined && !hasTimeout) return undefined;
  const attributes: Attributes = {};
  if (requestId !== undefined) attributes[ATTR_AWS_REQUEST_ID] = requestId;
  if (hasTimeout) attributes[ATTR_SQS_VISIBILITY_TIMEOUT] = visibilityTimeout;
  return attributes;
}

/** A batch entry SQS refused, as an error whose `error.type` is SQS's code. */
function entryError(failure: BatchResultErrorEntry): Error {
  const error = new Error(failure.Message ?? failure.Code ?? 'batch entry failed');
  error.name = failure.Code ?? 'BatchEntryFailed';
  return error;
}
