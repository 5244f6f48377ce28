import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { headerToString } from '../../src/header-value.js';
import type { ProcessScope } from '../../src/process-scope.js';
import { TRACEPARENT } from '../../src/propagation.js';
import { shared } from '../../src/registry.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_ERROR_TYPE } from '../../src/semconv.js';
import { SettleIndex } from '../../src/settle-index.js';
import type { AmqpServer } from './amqp-transport.js';
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

/**
 * What tracehop knows about one amqplib channel, shared by every `traceChannel` wrapper
 * of it and every `traceAmqpHandler` bound to it: the `process` spans of deliveries not
 * yet settled, by delivery tag (a channel's tags are unique and rise in delivery order,
 * which is what `ack(message, true)` and `ackAll()` settle by), which end with an error
 * when it closes; and the `send` spans of mandatory messages the broker may return. A
 * delivery leaves it when its span ends: at the settle, or at the settle timeout.
 */
export class AmqpChannelState {
  /** Broker address and port, read once. */
  readonly server: AmqpServer | undefined;
  /** Whether the channel is in confirm mode: `send` spans end at the broker's confirm. */
  readonly confirms: boolean;
  /** Whether the official instrumentation patched amqplib (then it is warned about once). */
  readonly officiallyInstrumented: boolean;
  /** Whether a `traceChannel` wrapper of this channel exists: settles through it are seen. */
  wrapped = false;
  private readonly unsettled = new SettleIndex<number>();
  private returnable: Map<string, Span> | undefined;

  constructor(readonly raw: RawChannel) {
    this.server = serverOf(raw);
    this.confirms = typeof raw.waitForConfirms === 'function';
    this.officiallyInstrumented = isOfficiallyInstrumented(raw);
    raw.once('close', () => this.closed());
  }

  /** How many deliveries are being processed and not yet settled. */
  get unsettledCount(): number {
    return this.unsettled.size;
  }

  /**
   * Makes a delivery's `process` scope findable by its delivery tag until its span ends;
   * `false` when the message has no tag (then its settle cannot be found).
   */
  track(message: Message, scope: ProcessScope): boolean {
    const tag: unknown = message.fields?.deliveryTag;
    if (typeof tag !== 'number') return false;
    this.unsettled.track(tag, scope);
    return true;
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
    // Nothing tracked (no span records and metrics are off): nothing to find.
    if (this.unsettled.isEmpty) return;
    const tag: unknown = message?.fields?.deliveryTag;
    if (typeof tag !== 'number') return;
    if (!allUpTo) {
      this.unsettled.find(tag)?.settle(operation, error, attributes);
      return;
    }
    this.unsettled.settleWhere((other) => other <= tag, operation, error, attributes);
  }

  private settledAll(operation: string, attributes: Attributes, error?: unknown): void {
    if (this.unsettled.isEmpty) return;
    this.unsettled.settleWhere(everyTag, operation, error, attributes);
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
    this.returnable?.clear();
    this.unsettled.abortAll(new ChannelClosedError());
  }
}

const everyTag = (): boolean => true;

// Shared by every copy of tracehop in the process (ESM and CommonJS): one state per channel.
const states = shared('amqp.channelStates', () => new WeakMap<RawChannel, AmqpChannelState>());

/** The one state of a channel, made the first time tracehop sees it. */
export function channelState(channel: RawChannel): AmqpChannelState {
  let state = states.get(channel);
  if (state === undefined) {
    state = new AmqpChannelState(channel);
    states.set(channel, state);
  }
  return state;
}
