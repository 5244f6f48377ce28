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
 * The Pub/Sub protocol binding for CloudEvents (the CloudEvents project's draft, as Google's
 * Eventarc uses it): in binary mode every attribute is a message attribute named `ce-{name}`
 * and `datacontenttype` is the `content-type` attribute; in structured mode the message data
 * is the JSON event and `content-type` is `application/cloudevents+json; charset=utf-8`.
 * Attribute names are compared case-insensitively when reading.
 */
const PREFIX = 'ce-';
const CONTENT_TYPE = 'content-type';

/** Options of {@link toPubSubMessage} and of `pubSubBinding`'s encoders. */
export interface PubSubEncodeOptions extends EncodeOptions {
  /** The message's ordering key. @defaultValue none */
  readonly orderingKey?: string;
  /**
   * Further message attributes of your own, copied into the message (the event's attributes
   * win on a clash).
   * @defaultValue none
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A message to hand to `topic.publishMessage`. */
export interface PubSubEventMessage {
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey?: string;
}

/** The parts of a received Pub/Sub `Message` the decoder reads. */
export interface PubSubReceivedMessage {
  readonly data: Uint8Array;
  readonly attributes?: Readonly<Record<string, string>> | null;
}

/**
 * CloudEvents over Pub/Sub: `binary` and `structured` give a message for
 * `topic.publishMessage` (publish it through a `traceTopic` topic, which adds this hop's own
 * `traceparent` attribute); `toEvent`, `isEvent` and `traceHeader` read a received
 * `Message`. See {@link CloudEventBinding}.
 *
 * In binary mode each attribute is one Pub/Sub attribute, so each value must fit Pub/Sub's
 * 1024-byte limit; use structured mode for events with longer attributes.
 */
export const pubSubBinding: CloudEventBinding<
  PubSubEventMessage,
  PubSubReceivedMessage,
  PubSubEncodeOptions
> = defineBinding<PubSubEventMessage, PubSubReceivedMessage, PubSubEncodeOptions>({
  encode: encodePubSub,
  read: readPubSub,
});

function encodePubSub(
  event: CloudEventLike,
  mode: ContentMode,
  options: Omit<PubSubEncodeOptions, 'mode'>,
): PubSubEventMessage {
  const attributes: Record<string, string> = { ...options.attributes };
  let data: Buffer;
  if (mode === 'structured') {
    data = Buffer.from(structuredBody(event), 'utf8');
    attributes[CONTENT_TYPE] = CLOUDEVENTS_JSON_CONTENT_TYPE;
  } else {
    for (const [name, value] of eventAttributes(event)) attributes[PREFIX + name] = value;
    const binary = binaryData(event);
    data = binary.body;
    if (binary.contentType !== undefined) attributes[CONTENT_TYPE] = binary.contentType;
  }
  const message: PubSubEventMessage = { data, attributes };
  if (options.orderingKey) message.orderingKey = options.orderingKey;
  return message;
}

function readPubSub(message: PubSubReceivedMessage): ReceivedParts {
  const event: Record<string, unknown> = {};
  let contentType: string | undefined;
  const attributes = message.attributes ?? {};
  for (const key in attributes) {
    const name = unprefixed(key, PREFIX);
    if (name !== undefined) event[name] = attributes[key];
    else if (key.length === CONTENT_TYPE.length && key.toLowerCase() === CONTENT_TYPE) {
      contentType = attributes[key];
    }
  }
  return { attributes: event, contentType, body: message.data };
}

/**
 * The message that carries `event` over Pub/Sub, in binary mode by default:
 * `pubSubBinding.binary` or `pubSubBinding.structured` as `options.mode` says. The event
 * first gets the Distributed Tracing extension with its creation context when it has none
 * (see {@link withTraceContext}).
 */
export function toPubSubMessage(
  event: CloudEventLike,
  options: PubSubEncodeOptions = {},
): PubSubEventMessage {
  const encode = options.mode === 'structured' ? pubSubBinding.structured : pubSubBinding.binary;
  return encode(event, options);
}

/** True when the message carries a CloudEvent, in either mode: `pubSubBinding.isEvent`. */
export function isPubSubCloudEvent(message: PubSubReceivedMessage): boolean {
  return pubSubBinding.isEvent(message);
}

/**
 * The CloudEvent a received Pub/Sub message carries, in either mode, with its Distributed
 * Tracing extension as it was sent: `pubSubBinding.toEvent`. Throws the SDK's
 * `ValidationError` when the message is not a CloudEvent (or a batch, which is not
 * supported), and `SyntaxError` for a structured body that is not JSON.
 */
export function fromPubSubMessage<T = unknown>(
  message: PubSubReceivedMessage,
  options: DecodeOptions = {},
): CloudEvent<T> {
  return pubSubBinding.toEvent<T>(message, options);
}
