import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { headerToString } from '../../src/header-value.js';
import type { MessagingTracer } from '../../src/messaging-tracer.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { TRACEPARENT } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_ERROR_TYPE } from '../../src/semconv.js';
import type { AmqpOutgoingMessage, AmqpServer } from './amqp-transport.js';
import {
  ATTR_AMQP_MULTIPLE,
  ATTR_AMQP_REPLY_CODE,
  ATTR_AMQP_REPLY_TEXT,
  ATTR_AMQP_REQUEUE,
} from './attributes.js';
import { ChannelClosedError } from './channel-closed-error.js';
import type { RawChannel } from './internal-types.js';
import { isOfficiallyInstrumented } from './official-instrumentation.js';
import { serverOf } from './server-of.js';

type AmqpTracer = MessagingTracer<AmqpOutgoingMessage, Message>;

// Settle-event attributes, shared and frozen: the core copies them into each event.
const MULTIPLE: Attributes = Object.freeze({ [ATTR_AMQP_MULTIPLE]: true });
const REQUEUE: Attributes = Object.freeze({ [ATTR_AMQP_REQUEUE]: true });
const DROP: Attributes = Object.freeze({ [ATTR_AMQP_REQUEUE]: false });
const REQUEUE_MULTIPLE: Attributes = Object.freeze({ ...REQUEUE, ...MULTIPLE });
const DROP_MULTIPLE: Attributes = Object.freeze({ ...DROP, ...MULTIPLE });

function requeueAttributes(requeue: boolean | undefined, multiple: boolean): Attributes {
  // amqplib requeues unless told `false`.
  if (requeue === false) return multiple ? DROP_MULTIPLE : DROP;
  return multiple ? REQUEUE_MULTIPLE : REQUEUE;
}

/** Below this many unsettled deliveries, timed-out entries are not looked for. */
const PRUNE_FLOOR = 1024;

/**
 * What tracehop knows about one amqplib channel, shared by every `traceChannel` wrapper
 * of it and every `traceAmqpHandler` bound to it: the `process` spans waiting for a settle,
 * by delivery tag (a channel's tags are unique and rise in delivery order, which is what
 * `ack(message, true)` and `ackAll()` settle by); the tracers whose spans end when it
 * closes; and the `send` spans of mandatory messages the broker may return.
 */
export class AmqpChannelState {
  /** Broker address and port, read once. */
  readonly server: AmqpServer | undefined;
  /** Whether the channel is in confirm mode: `send` spans end at the broker's confirm. */
  readonly confirms: boolean;
  /** Whether the official instrumentation patched amqplib (then it is warned about once). */
  readonly officiallyInstrumented: boolean;
  private readonly unsettled = new Map<number, ProcessScope>();
  private pruneAt = PRUNE_FLOOR;
  private readonly tracers = new Set<AmqpTracer>();
  private returnable: Map<string, Span> | undefined;

  constructor(readonly raw: RawChannel) {
    this.server = serverOf(raw);
    this.confirms = typeof raw.waitForConfirms === 'function';
    this.officiallyInstrumented = isOfficiallyInstrumented(raw);
    raw.once('close', () => this.closed());
  }

  /** Ends the open `process` spans of `tracer` when the channel closes. */
  addTracer(tracer: AmqpTracer): void {
    this.tracers.add(tracer);
  }

  /** Remembers a delivery's `process` scope until the message is settled. */
  track(message: Message, scope: ProcessScope): void {
    const tag: unknown = message.fields?.deliveryTag;
    if (typeof tag !== 'number') return;
    this.unsettled.set(tag, scope);
    if (this.unsettled.size > this.pruneAt) this.prune();
  }

  // ------------------------------------------------------------- settling

  ack(message: Message, allUpTo?: boolean): unknown {
    let result: unknown;
    try {
      result = this.raw.ack(message, allUpTo);
    } catch (error) {
      this.settled(
        message,
        allUpTo === true,
        'ack',
        allUpTo === true ? MULTIPLE : undefined,
        error,
      );
      throw error;
    }
    this.settled(message, allUpTo === true, 'ack', allUpTo === true ? MULTIPLE : undefined);
    return result;
  }

  nack(message: Message, allUpTo?: boolean, requeue?: boolean): unknown {
    const attributes = requeueAttributes(requeue, allUpTo === true);
    let result: unknown;
    try {
      result = this.raw.nack(message, allUpTo, requeue);
    } catch (error) {
      this.settled(message, allUpTo === true, 'nack', attributes, error);
      throw error;
    }
    this.settled(message, allUpTo === true, 'nack', attributes);
    return result;
  }

  reject(message: Message, requeue?: boolean): unknown {
    const attributes = requeueAttributes(requeue, false);
    let result: unknown;
    try {
      result = this.raw.reject(message, requeue);
    } catch (error) {
      this.settled(message, false, 'reject', attributes, error);
      throw error;
    }
    this.settled(message, false, 'reject', attributes);
    return result;
  }

  ackAll(): unknown {
    let result: unknown;
    try {
      result = this.raw.ackAll();
    } catch (error) {
      this.settledAll('ack', MULTIPLE, error);
      throw error;
    }
    this.settledAll('ack', MULTIPLE);
    return result;
  }

  nackAll(requeue?: boolean): unknown {
    const attributes = requeueAttributes(requeue, true);
    let result: unknown;
    try {
      result = this.raw.nackAll(requeue);
    } catch (error) {
      this.settledAll('nack', attributes, error);
      throw error;
    }
    this.settledAll('nack', attributes);
    return result;
  }

  private settled(
    message: Message,
    allUpTo: boolean,
    operation: string,
    attributes: Attributes | undefined,
    error?: unknown,
  ): void {
    const tag: unknown = message?.fields?.deliveryTag;
    if (typeof tag !== 'number') return;
    if (!allUpTo) {
      const scope = this.unsettled.get(tag);
      if (scope === undefined) return;
      this.unsettled.delete(tag);
      scope.settle(operation, error, attributes);
      return;
    }
    for (const [other, scope] of this.unsettled) {
      if (other > tag) continue;
      this.unsettled.delete(other);
      scope.settle(operation, error, attributes);
    }
  }

  private settledAll(operation: string, attributes: Attributes, error?: unknown): void {
    const scopes = [...this.unsettled.values()];
    this.unsettled.clear();
    for (const scope of scopes) scope.settle(operation, error, attributes);
  }

  /** Forgets deliveries whose span ended without a settle (timed out): they were never acked. */
  private prune(): void {
    for (const [tag, scope] of this.unsettled) if (scope.isEnded) this.unsettled.delete(tag);
    this.pruneAt = Math.max(PRUNE_FLOOR, this.unsettled.size * 2);
  }

  // ------------------------------------------------------------- returns

  /**
   * Watches for the broker returning a mandatory message published on this confirm
   * channel; `key` is the `traceparent` it carries. The broker returns before it confirms,
   * so the `send` span is still open when the return arrives.
   */
  watchReturn(key: string, span: Span): void {
    if (this.returnable === undefined) {
      this.returnable = new Map();
      this.raw.on('return', (message) => this.returned(message));
    }
    this.returnable.set(key, span);
  }

  /** The message was confirmed: a return can no longer come. */
  forgetReturn(key: string): void {
    this.returnable?.delete(key);
  }

  private returned(message: Message): void {
    try {
      const headers: unknown = message.properties?.headers;
      if (typeof headers !== 'object' || headers === null) return;
      const key = headerToString((headers as Record<string, unknown>)[TRACEPARENT], TRACEPARENT);
      const span = key === undefined ? undefined : this.returnable?.get(key);
      if (span === undefined) return;
      const fields = message.fields as { replyCode?: unknown; replyText?: unknown };
      const code = typeof fields.replyCode === 'number' ? fields.replyCode : undefined;
      const text = typeof fields.replyText === 'string' ? fields.replyText : 'returned';
      const attributes: Attributes = { [ATTR_AMQP_REPLY_TEXT]: text };
      if (code !== undefined) attributes[ATTR_AMQP_REPLY_CODE] = code;
      span.addEvent('return', attributes);
      span.setAttribute(ATTR_ERROR_TYPE, text);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `the broker returned the message: ${code === undefined ? text : `${code} ${text}`}`,
      });
    } catch (error) {
      reportOnce('amqp:return', `could not record a returned message: ${String(error)}`);
    }
  }

  // ------------------------------------------------------------- closing

  private closed(): void {
    const error = new ChannelClosedError();
    this.unsettled.clear();
    this.returnable?.clear();
    for (const tracer of this.tracers) tracer.abortOpen(error);
  }
}

const states = new WeakMap<RawChannel, AmqpChannelState>();

/** The one state of a channel, made the first time tracehop sees it. */
export function channelState(channel: RawChannel): AmqpChannelState {
  let state = states.get(channel);
  if (state === undefined) {
    state = new AmqpChannelState(channel);
    states.set(channel, state);
  }
  return state;
}
