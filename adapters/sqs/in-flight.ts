import type { Attributes } from '@opentelemetry/api';
import { recordError } from '../../src/errors.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { ATTR_MESSAGING_OPERATION_NAME, ATTR_MESSAGING_OPERATION_TYPE } from '../../src/semconv.js';

/** The SQS calls recorded as settling a message, named as the span events are. */
export type SqsSettleOperation = 'delete' | 'change_visibility';

/**
 * One message being processed by a handler decorator, findable by its receipt handle,
 * which is all a `DeleteMessage` or `ChangeMessageVisibility` call says about it. Ends its
 * `process` span when the handler has finished and, if the decorator waits for it, the
 * message has been settled.
 */
export class InFlightMessage {
  private handlerDone = false;
  private waiting = false;
  private settled = false;

  constructor(
    readonly scope: ProcessScope,
    readonly receiptHandle: string | undefined,
  ) {}

  /**
   * A delete or visibility change of this message returned; `error` when SQS refused it.
   * A visibility change while the handler still runs extends the lease: an event, not a
   * settle.
   */
  settle(operation: SqsSettleOperation, error: unknown, attributes: Attributes | undefined): void {
    const scope = this.scope;
    if (scope.isEnded) {
      forget(this);
      return;
    }
    if (operation === 'change_visibility' && !this.handlerDone) {
      scope.span.addEvent(operation, {
        ...attributes,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'settle',
        [ATTR_MESSAGING_OPERATION_NAME]: operation,
      });
      return;
    }
    this.settled = true;
    scope.settle(operation, error, attributes);
    if (this.waiting) scope.handlerFinished();
    if (scope.isEnded) forget(this);
  }

  /**
   * The handler returned or threw. With `waitForSettle` the span stays open (an error is
   * recorded now) until the message is settled, unless it already was.
   */
  handlerFinished(error: unknown, waitForSettle: boolean): void {
    this.handlerDone = true;
    const scope = this.scope;
    if (waitForSettle && !this.settled && !scope.isEnded) {
      if (error !== undefined) recordError(scope.span, error);
      this.waiting = true;
      return;
    }
    scope.handlerFinished(error);
    forget(this);
  }
}

/** Messages being processed, by receipt handle. */
const byReceiptHandle = new Map<string, InFlightMessage>();
const MIN_SWEEP_SIZE = 1024;
let sweepAbove = MIN_SWEEP_SIZE;

/** Makes a message findable by its receipt handle until its span ends. */
export function track(message: InFlightMessage): void {
  const handle = message.receiptHandle;
  if (handle === undefined) return;
  byReceiptHandle.set(handle, message);
  // Spans ended by the settle timeout are not removed when they end; sweep them now and
  // then, so the map never grows past twice the messages really in flight.
  if (byReceiptHandle.size > sweepAbove) sweep();
}

/** The message with this receipt handle whose `process` span is still open, if any. */
export function inFlight(receiptHandle: unknown): InFlightMessage | undefined {
  if (typeof receiptHandle !== 'string') return undefined;
  const message = byReceiptHandle.get(receiptHandle);
  if (message !== undefined && message.scope.isEnded) {
    byReceiptHandle.delete(receiptHandle);
    return undefined;
  }
  return message;
}

/** Whether any message is being processed: lets settle calls skip all lookups when none is. */
export function anyInFlight(): boolean {
  return byReceiptHandle.size > 0;
}

function forget(message: InFlightMessage): void {
  const handle = message.receiptHandle;
  if (handle !== undefined && byReceiptHandle.get(handle) === message) {
    byReceiptHandle.delete(handle);
  }
}

function sweep(): void {
  for (const [handle, message] of byReceiptHandle) {
    if (message.scope.isEnded) byReceiptHandle.delete(handle);
  }
  sweepAbove = Math.max(MIN_SWEEP_SIZE, byReceiptHandle.size * 2);
}
