import type { CloudEvent } from 'cloudevents';
import { reportOnce } from '../../src/report.js';
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
 * CloudEvents over SQS. There is no official SQS binding; tracehop uses the convention of
 * the HTTP and Pub/Sub bindings, which SQS attribute names allow: binary mode puts each
 * attribute in a `String` message attribute named `ce-{name}` and `datacontenttype` in
 * `content-type`, with the data as the message body; structured mode sends the JSON event as
 * the body with `content-type: application/cloudevents+json; charset=utf-8`.
 *
 * SQS allows 10 message attributes and text bodies only, so structured mode is the default;
 * binary mode falls back to structured (said once through `diag`) for binary data or when
 * the event has more than 10 attributes.
 */
const PREFIX = 'ce-';
const CONTENT_TYPE = 'content-type';
const SQS_MAX_ATTRIBUTES = 10;

/** A `String` SQS message attribute. */
export interface SqsStringAttribute {
  DataType: 'String';
  StringValue: string;
}

/** Options of {@link toSqsMessage} and of `sqsBinding`'s encoders. */
export interface SqsEncodeOptions extends EncodeOptions {
  /**
   * Further message attributes of your own (the event's attributes win on a clash); they
   * count against SQS's 10.
   * @defaultValue none
   */
  readonly attributes?: Readonly<Record<string, SqsStringAttribute>>;
}

/**
 * The parts of a `SendMessage` input that carry the event: spread them into it,
 * `new SendMessageCommand({ QueueUrl, ...toSqsMessage(event) })`.
 */
export interface SqsEventMessage {
  MessageBody: string;
  MessageAttributes: Record<string, SqsStringAttribute>;
}

/** The parts of a received SQS `Message` the decoder reads. */
export interface SqsReceivedMessage {
  readonly Body?: string | undefined;
  readonly MessageAttributes?:
    | Readonly<
        Record<
          string,
          { readonly StringValue?: string | undefined; readonly DataType?: string | undefined }
        >
      >
    | undefined;
}

/**
 * CloudEvents over SQS: `binary` and `structured` give the `MessageBody` and
 * `MessageAttributes` to spread into a `SendMessage` input (send it through an
 * `instrumentSqsClient` client, which adds this hop's own `traceparent` attribute);
 * `toEvent`, `isEvent` and `traceHeader` read a received `Message` (receive it with
 * `MessageAttributeNames: ['All']`, or through an instrumented client). See
 * {@link CloudEventBinding}.
 *
 * `binary` falls back to structured mode — said once through `diag` — for an event with
 * binary data or one that needs more than SQS's 10 message attributes: the event is always
 * sent, whole.
 */
export const sqsBinding: CloudEventBinding<SqsEventMessage, SqsReceivedMessage, SqsEncodeOptions> =
  defineBinding<SqsEventMessage, SqsReceivedMessage, SqsEncodeOptions>({
    encode: encodeSqs,
    read: readSqs,
  });

function encodeSqs(
  event: CloudEventLike,
  mode: ContentMode,
  options: Omit<SqsEncodeOptions, 'mode'>,
): SqsEventMessage {
  if (mode === 'binary') {
    const binary = toBinary(event, options.attributes);
    if (binary !== undefined) return binary;
  }
  return {
    MessageBody: structuredBody(event),
    MessageAttributes: {
      ...options.attributes,
      [CONTENT_TYPE]: stringAttribute(CLOUDEVENTS_JSON_CONTENT_TYPE),
    },
  };
}

function readSqs(message: SqsReceivedMessage): ReceivedParts {
  const event: Record<string, unknown> = {};
  let contentType: string | undefined;
  const attributes = message.MessageAttributes ?? {};
  for (const key in attributes) {
    const value = attributes[key]?.StringValue;
    if (typeof value !== 'string') continue;
    const name = unprefixed(key, PREFIX);
    if (name !== undefined) event[name] = value;
    else if (key.toLowerCase() === CONTENT_TYPE) contentType = value;
  }
  return { attributes: event, contentType, body: message.Body };
}

/**
 * The SQS message that carries `event`, in structured mode by default: `sqsBinding.structured`
 * or `sqsBinding.binary` as `options.mode` says, after adding the Distributed Tracing
 * extension when the event has none (see {@link withTraceContext}).
 */
export function toSqsMessage(
  event: CloudEventLike,
  options: SqsEncodeOptions = {},
): SqsEventMessage {
  const encode = options.mode === 'binary' ? sqsBinding.binary : sqsBinding.structured;
  return encode(event, options);
}

/**
 * The CloudEvent a received SQS message carries, in either mode: `sqsBinding.toEvent`.
 * Throws the SDK's `ValidationError` when the message is not a CloudEvent.
 */
export function fromSqsMessage<T = unknown>(
  message: SqsReceivedMessage,
  options: DecodeOptions = {},
): CloudEvent<T> {
  return sqsBinding.toEvent<T>(message, options);
}

function toBinary(
  event: CloudEventLike,
  own: SqsEncodeOptions['attributes'],
): SqsEventMessage | undefined {
  if (event.data instanceof Uint8Array || typeof event.data_base64 === 'string') {
    reportOnce(
      'cloudevents:sqs-binary-data',
      'SQS bodies are text: sent an event with binary data in structured mode',
    );
    return undefined;
  }
  const attributes: Record<string, SqsStringAttribute> = { ...own };
  for (const [name, value] of eventAttributes(event)) {
    // SQS rejects empty attribute values.
    if (value !== '') attributes[PREFIX + name] = stringAttribute(value);
  }
  const binary = binaryData(event);
  if (binary.contentType !== undefined)
    attributes[CONTENT_TYPE] = stringAttribute(binary.contentType);
  if (Object.keys(attributes).length > SQS_MAX_ATTRIBUTES) {
    reportOnce(
      'cloudevents:sqs-binary-attributes',
      `an event needs more than ${SQS_MAX_ATTRIBUTES} SQS message attributes in binary mode: sent it in structured mode`,
    );
    return undefined;
  }
  return { MessageBody: binary.body.toString('utf8'), MessageAttributes: attributes };
}

function stringAttribute(value: string): SqsStringAttribute {
  return { DataType: 'String', StringValue: value };
}
