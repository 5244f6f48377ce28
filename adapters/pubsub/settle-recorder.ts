import type { Attributes } from '@opentelemetry/api';
import type { ProcessScope } from '../../src/process-scope.js';
import { ATTR_ERROR_TYPE, ATTR_GCP_PUBSUB_MESSAGE_ACK_DEADLINE } from '../../src/semconv.js';
import { errorType } from '../../src/errors.js';
import type { PubSubMessage } from './types.js';

/**
 * The answer of `ackWithResponse()`, `nackWithResponse()` or `modAckWithResponse()`
 * (`SUCCESS`, or the failure's code such as `INVALID`, `PERMISSION_DENIED`), on the settle
 * event. Only exactly-once subscriptions really wait for it; others answer `SUCCESS` at once.
 */
export const ATTR_PUBSUB_ACK_RESPONSE = 'tracehop.pubsub.ack_response';

type Settle = 'ack' | 'nack';

/** Read through a view: whether the handler acked or nacked it. */
const SETTLED = Symbol('tracehop.pubsub.settled');

/** Whether the handler already acked or nacked this view of a message. */
export function isSettledView(view: PubSubMessage): boolean {
  return (view as unknown as Record<symbol, unknown>)[SETTLED] === true;
}

/**
 * The proxy handler that gives a handler its message: every property is the message's own,
 * except the settle methods, which call the message's own method and then record the
 * settlement on the `process` span (an event named `ack`, `nack` or `modack`, see
 * {@link ProcessScope.settle}).
 *
 * Why a proxy: the client hands the same `Message` instance to every `message` listener and
 * keeps it in its lease manager, so tracehop neither adds properties to it nor touches the
 * shared `Message.prototype`. One proxy and this small handler per message are the whole
 * cost; the settle functions are only made when the handler reads them. The real method is
 * always called on the real message, so the client's bookkeeping sees the object it knows.
 */
export class SettleRecorder<M extends PubSubMessage> implements ProxyHandler<M> {
  /** Whether the handler (or auto-settle) acked or nacked: later calls are not recorded. */
  settled = false;
  private ackFn: (() => void) | undefined = undefined;
  private nackFn: (() => void) | undefined = undefined;
  private modAckFn: ((deadline: number) => void) | undefined = undefined;
  private ackWithResponseFn: (() => Promise<string>) | undefined = undefined;
  private nackWithResponseFn: (() => Promise<string>) | undefined = undefined;
  private modAckWithResponseFn: ((deadline: number) => Promise<string>) | undefined = undefined;

  constructor(
    private readonly message: M,
    private readonly scope: ProcessScope,
  ) {}

  get(target: M, key: string | symbol): unknown {
    switch (key) {
      case SETTLED:
        return this.settled;
      case 'ack':
        return (this.ackFn ??= () => this.settle('ack'));
      case 'nack':
        return (this.nackFn ??= () => this.settle('nack'));
      case 'modAck':
        return (this.modAckFn ??= (deadline: number) => this.modAck(deadline));
      case 'ackWithResponse':
        if (typeof target.ackWithResponse !== 'function') break;
        return (this.ackWithResponseFn ??= () => this.settleWithResponse('ack'));
      case 'nackWithResponse':
        if (typeof target.nackWithResponse !== 'function') break;
        return (this.nackWithResponseFn ??= () => this.settleWithResponse('nack'));
      case 'modAckWithResponse':
        if (typeof target.modAckWithResponse !== 'function') break;
        return (this.modAckWithResponseFn ??= (deadline: number) =>
          this.modAckWithResponse(deadline));
    }
    const value: unknown = Reflect.get(target, key);
    return value;
  }

  private settle(operation: Settle): void {
    if (operation === 'ack') this.message.ack();
    else this.message.nack();
    if (this.settled) return;
    this.settled = true;
    this.scope.settle(operation);
  }

  /**
   * `ackWithResponse` / `nackWithResponse`: the one settle the broker answers, so the only
   * one whose duration is recorded (`messaging.client.operation.duration`, from the call
   * until the answer). Plain `ack`/`nack` are queued by the client and never answered.
   */
  private settleWithResponse(operation: Settle): Promise<string> {
    const message = this.message;
    const started = performance.now();
    const response =
      operation === 'ack'
        ? (message.ackWithResponse as () => Promise<string>).call(message)
        : (message.nackWithResponse as () => Promise<string>).call(message);
    if (this.settled) return response;
    this.settled = true;
    return response.then(
      (answer) => {
        const seconds = (performance.now() - started) / 1000;
        this.scope.settle(operation, undefined, { [ATTR_PUBSUB_ACK_RESPONSE]: answer }, seconds);
        return answer;
      },
      (error: unknown) => {
        const seconds = (performance.now() - started) / 1000;
        this.scope.settle(operation, error, responseOf(error), seconds);
        throw error;
      },
    );
  }

  private modAck(deadline: number): void {
    this.message.modAck(deadline);
    this.recordModAck(deadline);
  }

  private modAckWithResponse(deadline: number): Promise<string> {
    const message = this.message;
    const response = (message.modAckWithResponse as (d: number) => Promise<string>).call(
      message,
      deadline,
    );
    return response.then(
      (answer) => {
        this.recordModAck(deadline, { [ATTR_PUBSUB_ACK_RESPONSE]: answer });
        return answer;
      },
      (error: unknown) => {
        this.recordModAck(deadline, {
          ...responseOf(error),
          [ATTR_ERROR_TYPE]: errorType(error),
        });
        throw error;
      },
    );
  }

  /**
   * A `modAck` changes the ack deadline; it does not settle the message (the handler still
   * acks or nacks it, and the client keeps leasing it), so it is recorded as an event only
   * and the span keeps waiting for the settle.
   */
  private recordModAck(deadline: number, extra?: Attributes): void {
    if (this.settled) return;
    this.scope.addSettleEvent('modack', {
      ...extra,
      [ATTR_GCP_PUBSUB_MESSAGE_ACK_DEADLINE]: deadline,
    });
  }
}

function responseOf(error: unknown): Attributes {
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  return typeof code === 'string' ? { [ATTR_PUBSUB_ACK_RESPONSE]: code } : {};
}
