import type { CloudEvent } from 'cloudevents';
import {
  batchNotSupported,
  binaryData,
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  decodeBinary,
  decodeStructured,
  eventAttributes,
  looksLikeEvent,
  modeOf,
  structuredBody,
  unprefixed,
} from './event-codec.js';
import { prepareEvent } from './prepare-event.js';
import type { CloudEventLike, DecodeOptions, EncodeOptions } from './types.js';

/**
 * The Pub/Sub protocol binding for CloudEvents (the CloudEvents project's draft, as Google's
 * Eventarc uses it): in binary mode every attribute is a message attribute named `ce-{name}`
 * and `datacontenttype` is the `content-type` attribute; in structured mode the message data
 * is the JSON event and `content-type` is `application/cloudevents+json; charset=utf-8`.
 * Attribute names are compared case-insensitively when reading.
 */
const PREFIX = 'ce-';
const CONTENT_TYPE = 'content-type';

/** Options of {@link toPubSubMessage}. */
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
 * The message that carries `event` over Pub/Sub, in binary mode by default. The event first
 * gets the Distributed Tracing extension with its creation context when it has none (see
 * {@link withTraceContext}); publish the message through a `traceTopic` topic, which adds
 * this hop's own `traceparent` attribute.
 *
 * In binary mode each attribute is one Pub/Sub attribute, so each value must fit Pub/Sub's
 * 1024-byte limit; use structured mode for events with longer attributes.
 */
export function toPubSubMessage(
  event: CloudEventLike,
  options: PubSubEncodeOptions = {},
): PubSubEventMessage {
  const traced = prepareEvent(event, options.traceContext);
  const attributes: Record<string, string> = { ...options.attributes };
  let data: Buffer;
  if (options.mode === 'structured') {
    data = Buffer.from(structuredBody(traced), 'utf8');
    attributes[CONTENT_TYPE] = CLOUDEVENTS_JSON_CONTENT_TYPE;
  } else {
    for (const [name, value] of eventAttributes(traced)) attributes[PREFIX + name] = value;
    const binary = binaryData(traced);
    data = binary.body;
    if (binary.contentType !== undefined) attributes[CONTENT_TYPE] = binary.contentType;
  }
  const message: PubSubEventMessage = { data, attributes };
  if (options.orderingKey) message.orderingKey = options.orderingKey;
  return message;
}

interface ReadAttributes {
  readonly event: Record<string, unknown>;
  readonly contentType: string | undefined;
}

function readAttributes(message: PubSubReceivedMessage): ReadAttributes {
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
  return { event, contentType };
}

/** True when the message carries a CloudEvent, in either mode. Does not decode it. */
export function isPubSubCloudEvent(message: PubSubReceivedMessage): boolean {
  const { event, contentType } = readAttributes(message);
  return modeOf(contentType) !== 'binary' || looksLikeEvent(event);
}

/**
 * The CloudEvent a received Pub/Sub message carries, in either mode, with its Distributed
 * Tracing extension as it was sent. Throws the SDK's `ValidationError` when the message is
 * not a CloudEvent (or a batch, which is not supported), and `SyntaxError` for a structured
 * body that is not JSON.
 */
export function fromPubSubMessage<T = unknown>(
  message: PubSubReceivedMessage,
  options: DecodeOptions = {},
): CloudEvent<T> {
  const { event, contentType } = readAttributes(message);
  const strict = options.strict ?? false;
  switch (modeOf(contentType)) {
    case 'structured':
      return decodeStructured<T>(contentType as string, message.data, strict);
    case 'batch':
      return batchNotSupported();
    default:
      return decodeBinary<T>(event, contentType, message.data, strict);
  }
}
