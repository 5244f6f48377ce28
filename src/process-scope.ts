import type { Attributes, Context, Span, SpanContext } from '@opentelemetry/api';
import { errorType, recordError } from './errors.js';
import type { MetricDestination } from './messaging-metrics.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
} from './semconv.js';
import type { SettleIndex, SettleTarget } from './settle-index.js';

/** Attribute set on a `process` span that was ended by the settle timeout. */
export const ATTR_PROCESS_TIMED_OUT = 'tracehop.process.timed_out';

const settleAttributesByOperation = new Map<string, Attributes>();

/** The attributes of a plain settle event, made once per operation name. */
function settleAttributes(operation: string): Attributes {
  let attributes = settleAttributesByOperation.get(operation);
  if (attributes === undefined) {
    attributes = Object.freeze({
      [ATTR_MESSAGING_OPERATION_TYPE]: 'settle',
      [ATTR_MESSAGING_OPERATION_NAME]: operation,
    });
    settleAttributesByOperation.set(operation, attributes);
  }
  return attributes;
}

/** The attributes of a settle event or late settle span. */
export function settleEventAttributes(
  operation: string,
  error: unknown,
  attributes: Attributes | undefined,
): Attributes {
  if (error === undefined && attributes === undefined) return settleAttributes(operation);
  const all: Attributes = { ...attributes, ...settleAttributes(operation) };
  if (error !== undefined) all[ATTR_ERROR_TYPE] = errorType(error);
  return all;
}

/** What a scope tells the consumer it belongs to. */
export interface ScopeOwner {
  /** Whether settles are recorded as events on the `process` span (the `settleEvents` option). */
  readonly settleEvents: boolean;
  /** The handler finished and the span waits for the settle: start its timeout now. */
  waitForSettle(scope: ProcessScope): void;
  /** The span ended. */
  scopeEnded(scope: ProcessScope): void;
  /**
   * A settle came after the span ended by its timeout: record it as a short settle span
   * (CLIENT) under the ended `process` span.
   */
  recordLateSettle(
    processSpan: SpanContext,
    destination: string,
    operation: string,
    error: unknown,
    attributes: Attributes | undefined,
  ): void;
  /**
   * The handler finished (`error` is its `error.type` when it failed): record
   * `messaging.process.duration`, measured from `startedAt` (`performance.now()`).
   */
  processed(metric: MetricDestination, startedAt: number, error: string | undefined): void;
  /** A settle call that took `seconds`: record `messaging.client.operation.duration`. */
  settleMeasured(
    metric: MetricDestination,
    operation: string,
    error: unknown,
    seconds: number,
  ): void;
}

const RUNNING = 0;
const FINISHING = 1;
const WAITING = 2;
const ENDED = 3;
type Phase = typeof RUNNING | typeof FINISHING | typeof WAITING | typeof ENDED;

/**
 * The life of one `process` span: started when the message arrives, active while the
 * handler runs, and ended exactly once — when the handler has finished, or, where the
 * settle can be seen and is awaited, at the settle or at the settle timeout, counted from
 * the handler's end. A running handler's span is never ended under it. Holds the span,
 * never the message.
 */
export class ProcessScope implements SettleTarget {
  /** When the handler finished and the wait for the settle began (`performance.now()`). */
  waitingSince = 0;
  /**
   * Whether anything is recorded of this message beyond its context: its span records, or
   * metrics are on. When not, the lifecycle skips settle tracking and the settle view.
   */
  readonly observed: boolean;
  private phase: Phase = RUNNING;
  private settled = false;
  private timedOut = false;
  private index: SettleIndex<unknown> | undefined;
  private key: unknown;

  constructor(
    /** The `process` span. */
    readonly span: Span,
    /** The context the handler runs in: the span plus the message's baggage. */
    readonly context: Context,
    /** The destination in the span's name, for a late settle span. */
    readonly destination: string,
    private readonly owner: ScopeOwner,
    /** The message's metric attributes; `undefined` while metrics are off. */
    readonly metric?: MetricDestination,
    /** When the message was delivered (`performance.now()`), for `messaging.process.duration`. */
    readonly startedAt = 0,
  ) {
    this.observed = metric !== undefined || span.isRecording();
  }

  /** Whether the span has ended. */
  get isEnded(): boolean {
    return this.phase === ENDED;
  }

  /** Whether the handler is still running. */
  get handlerRunning(): boolean {
    return this.phase === RUNNING;
  }

  /** Whether the message was settled (or can no longer be: its channel is gone). */
  get isSettled(): boolean {
    return this.settled;
  }

  /** This scope while its span is open (see {@link SettleTarget.openScope}). */
  openScope(): ProcessScope | undefined {
    return this.phase === ENDED ? undefined : this;
  }

  /** Called by {@link SettleIndex.track}: the scope leaves that index when it ends. */
  indexedIn<K>(index: SettleIndex<K>, key: K): void {
    this.index = index;
    this.key = key;
  }

  /**
   * The message was settled (`ack`, `nack`, `reject`, `delete`…): recorded as an event
   * named after the operation on the `process` span, with `messaging.operation.type =
   * settle` and `error.type` when the broker refused it (with `settleEvents: false`, only
   * a refused settle is). Ends the span if the handler has
   * finished and it was waiting for this. After the span ended by its timeout, the settle
   * is recorded as a late settle span instead (see {@link ScopeOwner.recordLateSettle}).
   *
   * @param seconds - how long the settle call took, when the adapter measured it (a call
   * the broker answers: an SQS delete, a Pub/Sub `ackWithResponse`): recorded in
   * `messaging.client.operation.duration` while metrics are on
   */
  settle(operation: string, error?: unknown, attributes?: Attributes, seconds?: number): void {
    if (seconds !== undefined && this.metric !== undefined) {
      this.owner.settleMeasured(this.metric, operation, error, seconds);
    }
    if (this.phase === ENDED) {
      // Only a timeout leaves a settle to come; after a settle or an abort there is none.
      if (!this.timedOut) return;
      this.owner.recordLateSettle(
        this.span.spanContext(),
        this.destination,
        operation,
        error,
        attributes,
      );
      return;
    }
    if (this.owner.settleEvents || error !== undefined) {
      this.span.addEvent(operation, settleEventAttributes(operation, error, attributes));
    }
    this.settled = true;
    if (this.phase === WAITING) this.end();
  }

  /**
   * Records a settle-type call that does not settle the message (a Pub/Sub `modack`, an
   * SQS visibility change while the handler runs): an event only.
   */
  addSettleEvent(operation: string, attributes: Attributes): void {
    if (this.phase === ENDED || !this.owner.settleEvents) return;
    this.span.addEvent(operation, { ...attributes, ...settleAttributes(operation) });
  }

  /**
   * The handler returned or its promise settled; `failed` when it threw or rejected, with
   * `error` recorded on the span. The caller then ends the span or makes it wait.
   */
  handlerFinished(failed: boolean, error: unknown): void {
    if (this.phase !== RUNNING) return;
    if (failed) recordError(this.span, error);
    this.phase = FINISHING;
    const metric = this.metric;
    if (metric !== undefined) {
      this.owner.processed(metric, this.startedAt, failed ? errorType(error) : undefined);
    }
  }

  /** The handler has finished and the settle is awaited: wait, timing out from now. */
  waitForSettle(): void {
    if (this.phase !== FINISHING) return;
    this.phase = WAITING;
    this.waitingSince = performance.now();
    this.owner.waitForSettle(this);
  }

  /** Ends the span because the settle did not come in time (never while the handler runs). */
  timeOut(): void {
    if (this.phase !== WAITING) return;
    this.span.setAttribute(ATTR_PROCESS_TIMED_OUT, true);
    this.end(true);
  }

  /**
   * The channel or connection was lost: `error` is recorded, no settle will come. The span
   * ends now, or when the handler finishes if it still runs.
   */
  abort(error: unknown): void {
    if (this.phase === ENDED) return;
    recordError(this.span, error);
    this.settled = true;
    if (this.phase === WAITING) this.end();
  }

  /** Ends the span (once). */
  end(timedOut = false): void {
    if (this.phase === ENDED) return;
    const waited = this.phase === WAITING;
    this.phase = ENDED;
    this.timedOut = timedOut;
    this.span.end();
    if (waited) this.owner.scopeEnded(this);
    const index = this.index;
    if (index === undefined) return;
    const late = timedOut
      ? new LateSettle(
          this.span.spanContext(),
          this.destination,
          this.owner,
          index,
          this.key,
          this.metric,
        )
      : undefined;
    index.release(this.key, this, late);
  }
}

/**
 * What an index keeps of a scope that timed out: enough to record a settle that comes
 * later, without the span and its attributes.
 */
class LateSettle implements SettleTarget {
  constructor(
    private readonly spanContext: SpanContext,
    private readonly destination: string,
    private readonly owner: ScopeOwner,
    private readonly index: SettleIndex<unknown>,
    private readonly key: unknown,
    private readonly metric: MetricDestination | undefined,
  ) {}

  openScope(): undefined {
    return undefined;
  }

  settle(operation: string, error?: unknown, attributes?: Attributes, seconds?: number): void {
    if (seconds !== undefined && this.metric !== undefined) {
      this.owner.settleMeasured(this.metric, operation, error, seconds);
    }
    this.index.forgetLate(this.key);
    this.owner.recordLateSettle(this.spanContext, this.destination, operation, error, attributes);
  }
}
