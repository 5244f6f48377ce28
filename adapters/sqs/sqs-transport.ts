import type { SpanContext } from '@opentelemetry/api';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { readHeaderIgnoringCase } from '../../src/header-names.js';
import type { CarrierLimits, CarrierUsage } from '../../src/limits.js';
import { TRACEPARENT, type TraceFields } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_AWS_SNS_TOPIC_ARN,
  ATTR_AWS_SQS_QUEUE_URL,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS,
} from '../../src/semconv.js';
import type { Attributes } from '@opentelemetry/api';
import type { MessagingTransport } from '../../src/transport.js';
import { ATTR_SQS_APPROXIMATE_RECEIVE_COUNT } from './attributes.js';
import {
  AWS_TRACE_HEADER,
  awsTraceHeaderToTraceparent,
  toAwsTraceHeader,
} from './aws-trace-header.js';
import { messageBytes } from './message-size.js';
import type { SqsOutgoingMessage } from './internal-types.js';
import { queueInfo } from './queue-info.js';
import { receivedFrom } from './in-flight.js';
import { snsEnvelopeHasTraceparent, snsEnvelopeHeader, snsEnvelopeOf } from './sns-envelope.js';

/** SQS allows at most 10 message attributes on one message. */
const MAX_MESSAGE_ATTRIBUTES = 10;
/** SQS allows message attribute names of up to 256 characters. */
const MAX_ATTRIBUTE_NAME_BYTES = 256;
/** Each injected attribute also carries its data type, `String`, which SQS counts too. */
const INJECTED_TYPE_BYTES = 3 * 'String'.length;

/**
 * The description of SQS for the core (see {@link MessagingTransport}): message
 * attributes as the carrier, SQS's limits with `AWSTraceHeader` as the fallback, and the
 * queue's name and URL as the destination. One per instrumented client or handler
 * decorator.
 */
export class SqsTransport implements MessagingTransport<SqsOutgoingMessage, Message> {
  readonly system = MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS;
  readonly limits: CarrierLimits;

  /**
   * Bytes that the rest of a `SendMessageBatch` takes, while its entries are fitted one
   * by one: the batch's whole payload must stay under the same limit as one message.
   * Set and reset synchronously around each entry's injection, so no other message ever
   * sees it.
   */
  batchBytes = 0;

  constructor(
    private readonly maxMessageBytes: number,
    /** The queue a handler's messages come from when no instrumented client said so. */
    private readonly defaultQueueUrl?: string,
  ) {
    this.limits = {
      maxEntries: MAX_MESSAGE_ATTRIBUTES,
      maxKeyBytes: MAX_ATTRIBUTE_NAME_BYTES,
      maxTotalBytes: maxMessageBytes,
    };
  }

  readHeader(message: Message, key: string): unknown {
    return readSqsHeader(message, key);
  }

  withHeaders(message: SqsOutgoingMessage, fields: TraceFields): SqsOutgoingMessage {
    let attributes: Record<string, MessageAttributeValue> | undefined;
    for (const key in fields) {
      attributes ??= { ...message.MessageAttributes };
      attributes[key] = { DataType: 'String', StringValue: fields[key] };
    }
    return attributes === undefined ? message : { ...message, MessageAttributes: attributes };
  }

  usage(message: SqsOutgoingMessage): CarrierUsage {
    const entries = countOwnKeys(message.MessageAttributes);
    const budget = this.maxMessageBytes - this.batchBytes;
    const bytes = messageBytes(message, budget) + this.batchBytes + INJECTED_TYPE_BYTES;
    return { entries, bytes };
  }

  withFallbackContext(message: SqsOutgoingMessage, spanContext: SpanContext): SqsOutgoingMessage {
    const system = message.MessageSystemAttributes;
    if (system?.AWSTraceHeader !== undefined) {
      reportOnce(
        'sqs:own-aws-trace-header',
        'an SQS message over its attribute limits already had its own AWSTraceHeader; it was ' +
          "sent as it was, without tracehop's trace context",
      );
      return message;
    }
    reportOnce(
      'sqs:aws-trace-header',
      'an SQS message had no room for a traceparent message attribute: its trace context ' +
        'went in the AWSTraceHeader system attribute instead',
    );
    return {
      ...message,
      MessageSystemAttributes: {
        ...system,
        [AWS_TRACE_HEADER]: { DataType: 'String', StringValue: toAwsTraceHeader(spanContext) },
      },
    };
  }

  describeOutgoing(message: SqsOutgoingMessage, attributes: Attributes): string {
    return describeQueue(message.QueueUrl, attributes, true);
  }

  /** The received `Body`, for a `contextSource` that reads the body. */
  body(message: Message): string | undefined {
    const body: unknown = message?.Body;
    return typeof body === 'string' ? body : undefined;
  }

  /**
   * The `SentTimestamp` system attribute: when SQS accepted the message (epoch ms, SQS's
   * clock). An instrumented client's `ReceiveMessage` asks for it (`requestTraceAttributes`).
   */
  sentAt(message: Message): number | undefined {
    return sentTimestamp(message?.Attributes?.SentTimestamp);
  }

  describeIncoming(message: Message, attributes: Attributes): string {
    return describeQueue(receivedFrom(message) ?? this.defaultQueueUrl, attributes, false, false);
  }

  /**
   * Queue URL, message id, receive count, the SNS topic of an envelope: only on spans that
   * record.
   */
  describeIncomingDetails(message: Message, attributes: Attributes): void {
    addQueueUrl(receivedFrom(message) ?? this.defaultQueueUrl, attributes);
    // Optional chaining throughout: whatever a handler is given still gets a span.
    const id = message?.MessageId;
    if (typeof id === 'string') attributes[ATTR_MESSAGING_MESSAGE_ID] = id;
    const count = receiveCount(message?.Attributes?.ApproximateReceiveCount);
    if (count !== undefined) attributes[ATTR_SQS_APPROXIMATE_RECEIVE_COUNT] = count;
    const envelope = snsEnvelopeOf(message, message?.Body);
    if (envelope?.topicArn !== undefined) attributes[ATTR_AWS_SNS_TOPIC_ARN] = envelope.topicArn;
  }
}

/**
 * Adds a queue's semantic-convention attributes and returns its name ('' when the queue
 * is unknown). `server.*` only on client calls, not on `process` spans; the queue URL
 * (`withUrl`) only where it costs once per call, not once per message: per-message spans
 * get it only when they record (see {@link addQueueUrl}).
 */
export function describeQueue(
  queueUrl: unknown,
  attributes: Attributes,
  withServer: boolean,
  withUrl = true,
): string {
  const queue = queueInfo(queueUrl);
  if (queue === undefined) return '';
  attributes[ATTR_MESSAGING_DESTINATION_NAME] = queue.name;
  if (withUrl) attributes[ATTR_AWS_SQS_QUEUE_URL] = queue.url;
  if (withServer) {
    if (queue.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = queue.address;
    if (queue.port !== undefined) attributes[ATTR_SERVER_PORT] = queue.port;
  }
  return queue.name;
}

/** Adds `aws.sqs.queue.url` when `queueUrl` is a queue's URL. */
export function addQueueUrl(queueUrl: unknown, attributes: Attributes): void {
  const queue = queueInfo(queueUrl);
  if (queue !== undefined) attributes[ATTR_AWS_SQS_QUEUE_URL] = queue.url;
}

/** Adds `server.address` and `server.port` of a queue's URL to `attributes`, and returns them. */
export function serverAttributes(queueUrl: unknown, attributes: Attributes): Attributes {
  const queue = queueInfo(queueUrl);
  if (queue?.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = queue.address;
  if (queue?.port !== undefined) attributes[ATTR_SERVER_PORT] = queue.port;
  return attributes;
}

/** `SentTimestamp` (epoch milliseconds, as a string) as a number, when it is one. */
export function sentTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Number(value);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** `ApproximateReceiveCount` as a number, when it is one. */
export function receiveCount(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const count = Number(value);
  return Number.isSafeInteger(count) && count >= 0 ? count : undefined;
}

/**
 * Reads one trace header of a received SDK message, from the first of these sources
 * that has a trace context (and only from it):
 * 1. the message attributes, when they hold `traceparent`;
 * 2. the `AWSTraceHeader` system attribute, answering for `traceparent`;
 * 3. an SNS envelope in the body whose attributes hold `traceparent`;
 * and otherwise the message attributes (for propagators with other field names).
 * Attribute names match exactly, else in any case (`TraceParent` holds `traceparent`, in
 * the message attributes and in the envelope alike; see `readHeaderIgnoringCase`).
 */
export function readSqsHeader(message: Message, key: string): unknown {
  const attributes = message?.MessageAttributes;
  const own = readHeaderIgnoringCase(attributes, key) as MessageAttributeValue | undefined;
  const traceparent = key === TRACEPARENT ? own : readHeaderIgnoringCase(attributes, TRACEPARENT);
  if (traceparent !== undefined) return attributeValue(own);
  const awsTraceHeader = message?.Attributes?.AWSTraceHeader;
  if (awsTraceHeader !== undefined) {
    return key === TRACEPARENT ? awsTraceHeaderToTraceparent(awsTraceHeader) : attributeValue(own);
  }
  const envelope = snsEnvelopeOf(message, message?.Body);
  if (envelope !== undefined && snsEnvelopeHasTraceparent(envelope)) {
    return snsEnvelopeHeader(envelope, key);
  }
  return attributeValue(own);
}

/** How many own keys an object has, without building the array `Object.keys` would. */
function countOwnKeys(object: object | undefined): number {
  let count = 0;
  if (object === undefined || object === null) return count;
  for (const key in object) if (Object.hasOwn(object, key)) count++;
  return count;
}

function attributeValue(attribute: MessageAttributeValue | undefined): unknown {
  if (attribute === undefined || attribute === null) return undefined;
  return attribute.StringValue ?? attribute.BinaryValue;
}
