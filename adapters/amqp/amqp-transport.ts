import type { Attributes } from '@opentelemetry/api';
import type { Message, Options } from 'amqplib';
import { readHeaderIgnoringCase } from '../../src/header-names.js';
import type { TraceFields } from '../../src/propagation.js';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_RABBITMQ_DESTINATION_ROUTING_KEY,
  ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ,
} from '../../src/semconv.js';
import type { MessagingTransport } from '../../src/transport.js';
import { ATTR_AMQP_REDELIVERED } from './attributes.js';
import { consumerDestination, sendDestination } from './destination.js';

/** One message as `publish` and `sendToQueue` receive it (`sendToQueue` uses the default exchange `''`). */
export interface AmqpOutgoingMessage {
  /** The exchange, `''` for the default exchange. */
  readonly exchange: string;
  /** The routing key (for `sendToQueue`, the queue). */
  readonly routingKey: string;
  /** The body: never read by tracehop beyond its length. */
  readonly content: Buffer;
  /** The caller's publish options; tracehop's copy carries the trace headers. */
  readonly options: Options.Publish | undefined;
}

/** The broker a channel is connected to, for `server.address` and `server.port`. */
export interface AmqpServer {
  /** `server.address`: the broker's IP address, as the socket sees it. */
  readonly address: string | undefined;
  /** `server.port`. */
  readonly port: number | undefined;
}

/** The description of RabbitMQ (amqplib) that tracehop's spans are built from. */
export type AmqpTransport = MessagingTransport<AmqpOutgoingMessage, Message>;

/** Options of {@link createAmqpTransport}. */
export interface AmqpTransportOptions {
  /**
   * The queue consumed messages come from: amqplib does not say, and the semantic
   * conventions name a consumed message's destination `{exchange}:{routing key}:{queue}`.
   * @defaultValue unknown: `{exchange}:{routing key}`
   */
  readonly queue?: string;
  /**
   * The broker's address and port, recorded as `server.address` and `server.port`.
   * @defaultValue not recorded
   */
  readonly server?: AmqpServer;
}

/**
 * The RabbitMQ {@link MessagingTransport}: trace headers in AMQP
 * `properties.headers` (written into a copy, read whatever their type), destinations
 * named per the semantic conventions, and settlement by `ack`/`nack`/`reject`. The
 * channel wrapper and handler decorator use it; so can an adapter that builds on AMQP
 * (CloudEvents over AMQP), by wrapping it.
 */
export function createAmqpTransport(options: AmqpTransportOptions = {}): AmqpTransport {
  return new AmqplibTransport(options.queue, options.server);
}

class AmqplibTransport implements AmqpTransport {
  readonly system = MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ;
  // One-entry caches: a producer or consumer mostly sees one destination, and building
  // the name per message would allocate a string each time.
  private sendExchange = '';
  private sendRoutingKey = '';
  private sendName = sendDestination('', '');
  private deliveryExchange = '';
  private deliveryRoutingKey = '';
  private deliveryName: string;

  constructor(
    private readonly queue: string | undefined,
    private readonly server: AmqpServer | undefined,
  ) {
    this.deliveryName = consumerDestination('', '', queue);
  }

  /** `key` exactly, else in any case (`TraceParent`): see {@link readHeaderIgnoringCase}. */
  readHeader(message: Message, key: string): unknown {
    const headers: unknown = message.properties?.headers;
    return readHeaderIgnoringCase(headers as Record<string, unknown> | undefined, key);
  }

  /**
   * A copy of the message whose options carry the trace fields in `headers` and, when the
   * caller set none, `timestamp`: the send time in whole seconds since the epoch, as AMQP
   * 0-9-1 defines the property, from which consumers compute the queue time.
   */
  withHeaders(message: AmqpOutgoingMessage, fields: TraceFields): AmqpOutgoingMessage {
    const options = message.options;
    const callerHeaders: unknown = options?.headers;
    // `fields` is a fresh object made for this message: it can be the headers as is.
    const headers =
      typeof callerHeaders === 'object' && callerHeaders !== null
        ? { ...(callerHeaders as Record<string, unknown>), ...fields }
        : fields;
    const traced: Options.Publish = { ...options, headers };
    // `null` is sent as no timestamp at all, as is `undefined`.
    if ((options?.timestamp as unknown) == null) traced.timestamp = Math.floor(Date.now() / 1000);
    return {
      exchange: message.exchange,
      routingKey: message.routingKey,
      content: message.content,
      options: traced,
    };
  }

  describeOutgoing(message: AmqpOutgoingMessage, attributes: Attributes): string {
    const exchange = asString(message.exchange);
    const routingKey = asString(message.routingKey);
    if (exchange !== this.sendExchange || routingKey !== this.sendRoutingKey) {
      this.sendExchange = exchange;
      this.sendRoutingKey = routingKey;
      this.sendName = sendDestination(exchange, routingKey);
    }
    const destination = this.sendName;
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = destination;
    addServer(attributes, this.server);
    return destination;
  }

  /** Routing key, message and correlation ids, body size: only on spans that record. */
  describeOutgoingDetails(message: AmqpOutgoingMessage, attributes: Attributes): void {
    const routingKey = asString(message.routingKey);
    if (routingKey !== '') attributes[ATTR_RABBITMQ_DESTINATION_ROUTING_KEY] = routingKey;
    const options = message.options;
    if (options !== undefined && options !== null) {
      addIds(attributes, options.messageId, options.correlationId);
    }
    const size: unknown = message.content?.length;
    if (typeof size === 'number') attributes[ATTR_MESSAGING_MESSAGE_BODY_SIZE] = size;
  }

  /** The delivered `content`, for a `contextSource` that reads the body. */
  body(message: Message): Uint8Array | undefined {
    const content: unknown = message?.content;
    return content instanceof Uint8Array ? content : undefined;
  }

  /** The `timestamp` property, when the producer set one: see {@link amqpTimestampMs}. */
  sentAt(message: Message): number | undefined {
    return amqpTimestampMs(message?.properties?.timestamp);
  }

  describeIncoming(message: Message, attributes: Attributes): string {
    const fields = message.fields;
    const exchange = asString(fields?.exchange);
    const routingKey = asString(fields?.routingKey);
    if (exchange !== this.deliveryExchange || routingKey !== this.deliveryRoutingKey) {
      this.deliveryExchange = exchange;
      this.deliveryRoutingKey = routingKey;
      this.deliveryName = consumerDestination(exchange, routingKey, this.queue);
    }
    const destination = this.deliveryName;
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = destination;
    addServer(attributes, this.server);
    return destination;
  }

  /** What the delivery says about itself (see {@link describeDelivery}): only on spans that record. */
  describeIncomingDetails(message: Message, attributes: Attributes): void {
    describeDelivery(message, asString(message.fields?.routingKey), attributes);
  }
}

/**
 * Adds what a delivered message says about itself (routing key, delivery tag,
 * redelivered flag, ids, body size) to `attributes`: shared by `process` and `receive` spans.
 */
export function describeDelivery(message: Message, routingKey: string, attributes: Attributes) {
  const fields = message.fields;
  if (routingKey !== '') attributes[ATTR_RABBITMQ_DESTINATION_ROUTING_KEY] = routingKey;
  const tag: unknown = fields?.deliveryTag;
  if (typeof tag === 'number') attributes[ATTR_RABBITMQ_MESSAGE_DELIVERY_TAG] = tag;
  // Only on redeliveries: most messages are first deliveries, and each attribute costs.
  if ((fields?.redelivered as unknown) === true) attributes[ATTR_AMQP_REDELIVERED] = true;
  const properties = message.properties;
  if (properties !== undefined && properties !== null) {
    addIds(attributes, properties.messageId, properties.correlationId);
  }
  const size: unknown = message.content?.length;
  if (typeof size === 'number') attributes[ATTR_MESSAGING_MESSAGE_BODY_SIZE] = size;
}

/** A `timestamp` at or above this is taken to be in milliseconds (1e11 s is the year 5138). */
const MILLISECONDS_FROM = 1e11;

/**
 * An AMQP `timestamp` property in epoch milliseconds. AMQP 0-9-1 defines it in whole
 * seconds (so a queue time computed from it may be up to 1 s longer than the real wait);
 * producers that wrote `Date.now()` there anyway are recognised by the size of the value
 * and read as milliseconds. `undefined` for anything that is not a positive number.
 */
export function amqpTimestampMs(value: unknown): number | undefined {
  const time = typeof value === 'bigint' ? Number(value) : value;
  if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) return undefined;
  return time >= MILLISECONDS_FROM ? time : time * 1000;
}

/** `value` when it is a string, else `''`: names never throw on what a caller passed. */
export function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

// AMQP `message-id` and `correlation-id` are short strings (at most 255 bytes): bounded.
function addIds(attributes: Attributes, messageId: unknown, correlationId: unknown): void {
  if (typeof messageId === 'string' && messageId !== '') {
    attributes[ATTR_MESSAGING_MESSAGE_ID] = messageId;
  }
  if (typeof correlationId === 'string' && correlationId !== '') {
    attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID] = correlationId;
  }
}

function addServer(attributes: Attributes, server: AmqpServer | undefined): void {
  if (server === undefined) return;
  if (server.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = server.address;
  if (server.port !== undefined) attributes[ATTR_SERVER_PORT] = server.port;
}
