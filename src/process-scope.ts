import {
  context as contextApi,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { errorType, isPromiseLike, recordError } from './errors.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
} from './semconv.js';

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

/** Notified when a scope ends, so the timeout list can forget it. */
export interface ScopeOwner {
  scopeEnded(scope: ProcessScope): void;
}

/**
 * The life of one `process` span: it ends when the handler has finished and, where
 * the broker settles messages separately, the message has been settled — whichever
 * is later — or when the settle timeout passes, or when the channel is lost. Ends
 * exactly once. Holds the span, never the message.
 */
export class ProcessScope {
  /** When the span started, in `performance.now()` milliseconds, for the timeout. */
  readonly startedAt: number;
  private handlerDone = false;
  private settled: boolean;
  private ended = false;

  constructor(
    /** The `process` span. */
    readonly span: Span,
    /** The context the handler runs in: the span plus the message's baggage. */
    readonly context: Context,
    awaitSettle: boolean,
    private readonly owner: ScopeOwner,
  ) {
    this.settled = !awaitSettle;
    this.startedAt = performance.now();
  }

  /** Whether the span has ended. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Runs the handler in this span's context, sync or async (the span stays active across
   * its awaits), and records when it finished. Its result or error passes through unchanged;
   * an error is recorded on the span.
   */
  run<A extends unknown[], R>(handler: (...args: A) => R, thisArg?: unknown, ...args: A): R {
    let result: R;
    try {
      result = contextApi.with(this.context, handler, thisArg, ...args);
    } catch (error) {
      this.handlerFinished(error);
      throw error;
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          this.handlerFinished();
          return value;
        },
        (error: unknown) => {
          this.handlerFinished(error);
          throw error;
        },
      ) as R;
    }
    this.handlerFinished();
    return result;
  }

  /** The handler returned or its promise settled; `error` when it threw or rejected. */
  handlerFinished(error?: unknown): void {
    if (this.ended) return;
    if (error !== undefined) recordError(this.span, error);
    this.handlerDone = true;
    if (this.settled) this.end();
  }

  /**
   * The message was settled (`ack`, `nack`, `reject`, `delete`, `modack`…). Recorded
   * as an event named after the operation on the `process` span, with
   * `messaging.operation.type = settle`; `error` when the broker refused it.
   */
  settle(operation: string, error?: unknown, attributes?: Attributes): void {
    if (this.ended) return;
    if (error === undefined && attributes === undefined) {
      this.span.addEvent(operation, settleAttributes(operation));
    } else {
      const eventAttributes: Attributes = { ...attributes, ...settleAttributes(operation) };
      if (error !== undefined) eventAttributes[ATTR_ERROR_TYPE] = errorType(error);
      this.span.addEvent(operation, eventAttributes);
    }
    this.settled = true;
    if (this.handlerDone) this.end();
  }

  /** Ends the span now because the timeout passed. */
  timeOut(): void {
    if (this.ended) return;
    this.span.setAttribute(ATTR_PROCESS_TIMED_OUT, true);
    this.end();
  }

  /** Ends the span now with an error: the channel or connection was lost. */
  abort(error: unknown): void {
    if (this.ended) return;
    recordError(this.span, error);
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.span.end();
    this.owner.scopeEnded(this);
  }
}
