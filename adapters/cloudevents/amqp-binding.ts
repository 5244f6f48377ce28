import type { CloudEvent } from 'cloudevents';
import { defineBinding } from './define-binding.js';
import {
  binaryData,
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  eventAttributes,
  structuredBody,
  unprefixed,
  type ReceivedParts,
} from './event-codec.js';
import type {
  CloudEventBinding,
  CloudEventLike,
  ContentMode,
  DecodeOptions,
  EncodeOptions,
} from './types.js';

/**
 * The CloudEvents AMQP protocol binding, over RabbitMQ's AMQP 0-9-1 as amqplib speaks it:
 * AMQP application properties are message `headers`, the AMQP `content-type` is the
 * `contentType` property. Binary mode names each attribute `cloudEvents:{name}`; when
 * reading, the `cloudEvents_` form (for JMS-style brokers) is accepted too, case-insensitively.
 * Values are written in their canonical string form, which the binding allows.
 */
const PREFIX = 'cloudEvents:';
const READ_PREFIXES = ['cloudevents:', 'cloudevents_'] as const;

/** Options of {@link toAmqpMessage} and of `amqpBinding`'s encoders. */
export interface AmqpEncodeOptions extends EncodeOptions {
  /**
   * Further headers of your own, copied into the message (the event's attributes win on a
   * clash).
   * @defaultValue none
   */
  readonly headers?: Readonly<Record<string, unknown>>;
}

/**
 * What to pass to amqplib:
 * `channel.publish(exchange, routingKey, message.content, message.properties)`.
 */
export interface AmqpEventMessage {
  content: Buffer;
  properties: { headers: Record<string, unknown>; contentType?: string };
}

/** The parts of an amqplib `ConsumeMessage` or `GetMessage` the decoder reads. */
export interface AmqpReceivedMessage {
  readonly content: Uint8Array;
  readonly properties: {
    readonly headers?: Readonly<Record<string, unknown>> | null;
    readonly contentType?: string | null;
  };
}

/**
 * CloudEvents over RabbitMQ with amqplib: `binary` and `structured` give the content and
 * properties for `channel.publish` (publish through a `traceChannel` channel, which adds this
 * hop's own `traceparent` header beside the event's `cloudEvents:traceparent`); `toEvent`,
 * `isEvent` and `traceHeader` read a `ConsumeMessage` or `GetMessage`. Header values of other
 * AMQP types are read too: numbers and booleans as they are, bytes as UTF-8, timestamps in
 * RFC 3339. See {@link CloudEventBinding}.
 */
export const amqpBinding: CloudEventBinding<
  AmqpEventMessage,
  AmqpReceivedMessage,
  AmqpEncodeOptions
> = defineBinding<AmqpEventMessage, AmqpReceivedMessage, AmqpEncodeOptions>({
  encode: encodeAmqp,
  read: readAmqp,
});

function encodeAmqp(
  event: CloudEventLike,
  mode: ContentMode,
  options: Omit<AmqpEncodeOptions, 'mode'>,
): AmqpEventMessage {
  const headers: Record<string, unknown> = { ...options.headers };
  if (mode === 'structured') {
    return {
      content: Buffer.from(structuredBody(event), 'utf8'),
      properties: { headers, contentType: CLOUDEVENTS_JSON_CONTENT_TYPE },
    };
  }
  for (const [name, value] of eventAttributes(event)) headers[PREFIX + name] = value;
  const binary = binaryData(event);
  const properties: AmqpEventMessage['properties'] = { headers };
  if (binary.contentType !== undefined) properties.contentType = binary.contentType;
  return { content: binary.body, properties };
}

function readAmqp(message: AmqpReceivedMessage): ReceivedParts {
  return {
    attributes: readHeaders(message),
    contentType: message.properties.contentType ?? undefined,
    body: message.content,
  };
}

/**
 * The amqplib message that carries `event`, in binary mode by default: `amqpBinding.binary`
 * or `amqpBinding.structured` as `options.mode` says, after adding the Distributed Tracing
 * extension when the event has none (see {@link withTraceContext}).
 */
export function toAmqpMessage(
  event: CloudEventLike,
  options: AmqpEncodeOptions = {},
): AmqpEventMessage {
  const encode = options.mode === 'structured' ? amqpBinding.structured : amqpBinding.binary;
  return encode(event, options);
}

/**
 * The CloudEvent a received AMQP message carries, in either mode: `amqpBinding.toEvent`.
 * Throws the SDK's `ValidationError` when the message is not a CloudEvent.
 */
export function fromAmqpMessage<T = unknown>(
  message: AmqpReceivedMessage,
  options: DecodeOptions = {},
): CloudEvent<T> {
  return amqpBinding.toEvent<T>(message, options);
}

function readHeaders(message: AmqpReceivedMessage): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  const headers = message.properties.headers ?? {};
  for (const key in headers) {
    const name = unprefixed(key, READ_PREFIXES[0]) ?? unprefixed(key, READ_PREFIXES[1]);
    if (name === undefined) continue;
    const value = amqpValue(headers[key]);
    if (value !== undefined) event[name] = value;
  }
  return event;
}

function amqpValue(value: unknown): string | number | boolean | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}
