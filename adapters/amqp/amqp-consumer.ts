import { context as contextApi } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { isPromiseLike } from '../../src/errors.js';
import { MessagingTracer } from '../../src/messaging-tracer.js';
import type { ConsumerOptions } from '../../src/options.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { reportOnce } from '../../src/report.js';
import { createAmqpTransport, type AmqpOutgoingMessage } from './amqp-transport.js';
import type { AmqpChannelState } from './channel-state.js';
import type { MessageHandler } from './internal-types.js';
import type { AmqpTransportHook } from './types.js';

/** How a consumer settles on its own: with `autoSettle`, the requeue flag for failures. */
export interface AutoSettle {
  readonly requeue: boolean;
}

/**
 * Runs one consumer's handler for each delivery inside its `process` span, sync or
 * async, and (with auto-settle) acks or nacks after it. Made once per `consume` call or
 * decorated handler; per message it allocates only what the span itself needs.
 */
export class AmqpConsumer {
  constructor(
    private readonly state: AmqpChannelState,
    private readonly tracer: MessagingTracer<AmqpOutgoingMessage, Message>,
    private readonly handler: MessageHandler,
    private readonly noAck: boolean,
    private readonly autoSettle: AutoSettle | undefined,
  ) {}

  /** Handles one delivery; `null` (the broker cancelled the consumer) goes straight through. */
  deliver(message: Message | null, thisArg: unknown): unknown {
    if (message === null || typeof message !== 'object') {
      return this.handler.call(thisArg, message);
    }
    const scope = this.start(message);
    if (scope === undefined) return this.handler.call(thisArg, message);
    if (this.autoSettle !== undefined) return this.runSettling(scope, message, thisArg);
    return scope.run(this.handler, thisArg, message);
  }

  private start(message: Message): ProcessScope | undefined {
    try {
      const awaitSettle = !this.noAck;
      // The channel state finds the scope by delivery tag: the tracer need not remember it.
      const scope = this.tracer.startProcess(message, awaitSettle, false);
      if (awaitSettle) this.state.track(message, scope);
      return scope;
    } catch (error) {
      reportOnce('amqp:process', `processed a message without tracing: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * Runs the handler, then acks, or nacks when it failed; the failure counts as handled.
   * The handler's end is recorded first (its exception before the nack), and the span
   * ends at the settle.
   */
  private runSettling(scope: ProcessScope, message: Message, thisArg: unknown): unknown {
    let result: unknown;
    try {
      result = contextApi.with(scope.context, this.handler, thisArg, message);
    } catch (error) {
      scope.handlerFinished(error);
      this.settle(message, true);
      return undefined;
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          scope.handlerFinished();
          this.settle(message, false);
          return value;
        },
        (error: unknown) => {
          scope.handlerFinished(error);
          this.settle(message, true);
          return undefined;
        },
      );
    }
    scope.handlerFinished();
    this.settle(message, false);
    return result;
  }

  private settle(message: Message, failed: boolean): void {
    try {
      if (!failed) this.state.ack(message);
      else this.state.nack(message, false, this.autoSettle?.requeue);
    } catch (error) {
      // The channel is gone: the broker will deliver the message again. The failed
      // settle is on the span's event; there is no caller to throw to.
      reportOnce('amqp:auto-settle', `could not settle a message: ${String(error)}`);
    }
  }
}

/** Options a consumer is made with, from `traceChannel` or `traceAmqpHandler`. */
export interface ConsumerSetup extends ConsumerOptions {
  readonly transport?: AmqpTransportHook;
}

/**
 * A consumer of `queue` on the channel of `state`: its own tracer (the queue is part of
 * each span's destination), registered with the channel so its spans end if it closes.
 */
export function createConsumer(
  state: AmqpChannelState,
  queue: string,
  handler: MessageHandler,
  setup: ConsumerSetup,
  noAck: boolean,
  autoSettle: AutoSettle | undefined,
): AmqpConsumer {
  const base = createAmqpTransport({ queue, server: state.server });
  const transport = setup.transport === undefined ? base : setup.transport(base);
  const tracer = new MessagingTracer(transport, setup);
  state.addTracer(tracer);
  return new AmqpConsumer(state, tracer, handler, noAck, autoSettle);
}
