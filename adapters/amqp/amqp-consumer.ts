import type { Message } from 'amqplib';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import type { ConsumerOptions, HandlerErrorOptions } from '../../src/options.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { reportOnce } from '../../src/report.js';
import { createAmqpTransport } from './amqp-transport.js';
import type { AmqpChannelState } from './channel-state.js';
import type { MessageHandler } from './internal-types.js';
import type { AmqpTransportHook } from './types.js';

/** How a consumer settles on its own: with `autoSettle`, the requeue flag for failures. */
export interface AutoSettle {
  readonly requeue: boolean;
}

/** Options a consumer is made with, from `traceChannel` or `traceAmqpHandler`. */
export interface ConsumerSetup extends ConsumerOptions, HandlerErrorOptions<Message> {
  readonly transport?: AmqpTransportHook;
}

/**
 * RabbitMQ's part of the message lifecycle, for one consumer: amqplib drops what its
 * consume callback returns; a settle finds its span by delivery tag on the channel; with
 * auto-settle the consumer acks or nacks after the handler. The core runs the rest.
 */
class AmqpLifecycle implements ConsumerLifecycle<Message> {
  readonly callerAwaits = false;
  readonly autoSettle: ((message: Message, failed: boolean) => void) | undefined;
  readonly onError: ((error: unknown, message: Message) => void) | undefined;

  constructor(
    private readonly state: AmqpChannelState,
    private readonly noAck: boolean,
    autoSettle: AutoSettle | undefined,
    onError: ConsumerSetup['onError'],
  ) {
    this.onError = onError;
    this.autoSettle =
      autoSettle === undefined || noAck
        ? undefined
        : (message, failed) => this.settle(message, failed, autoSettle.requeue);
  }

  track(message: Message, scope: ProcessScope): boolean {
    if (this.noAck) return false;
    // A settle is seen when tracehop makes it, or when it goes through a traceChannel wrapper.
    if (this.autoSettle === undefined && !this.state.wrapped) {
      reportOnce(
        'amqp:unseen-settle',
        'a traced consumer acks through a channel tracehop does not wrap, so its process spans ' +
          'end with the handler and acks are not recorded. Pass the traceChannel wrapper, or ' +
          'use autoSettle, to record them.',
      );
      return false;
    }
    return this.state.track(message, scope);
  }

  private settle(message: Message, failed: boolean, requeue: boolean): void {
    try {
      if (!failed) this.state.ack(message);
      else this.state.nack(message, false, requeue);
    } catch (error) {
      // The channel is gone: the broker will deliver the message again. The failed
      // settle is on the span's event; there is no caller to throw to.
      reportOnce('amqp:auto-settle', `could not settle a message: ${String(error)}`);
    }
  }
}

/**
 * One consumer's handler, run for each delivery inside its `process` span by the core.
 * Made once per `consume` call or decorated handler; per message it allocates only what
 * the span itself needs.
 */
export class AmqpConsumer {
  private readonly lifecycle: AmqpLifecycle;

  constructor(
    private readonly tracer: ConsumerTracer<Message>,
    private readonly handler: MessageHandler,
    state: AmqpChannelState,
    noAck: boolean,
    autoSettle: AutoSettle | undefined,
    onError: ConsumerSetup['onError'],
  ) {
    this.lifecycle = new AmqpLifecycle(state, noAck, autoSettle, onError);
  }

  /** Handles one delivery; `null` (the broker cancelled the consumer) goes straight through. */
  deliver(message: Message | null, thisArg: unknown): unknown {
    if (message === null || typeof message !== 'object') {
      return this.handler.call(thisArg, message);
    }
    return this.tracer.process(message, this.lifecycle, this.handler, thisArg, undefined);
  }
}

/**
 * A consumer of `queue` on the channel of `state`, with its own tracer: the queue is part
 * of each span's destination. Nothing of it is kept by the channel: it lives as long as
 * amqplib keeps the consume callback, until `cancel` or the channel's close.
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
  const tracer = new ConsumerTracer(transport, setup);
  return new AmqpConsumer(tracer, handler, state, noAck, autoSettle, setup.onError);
}
