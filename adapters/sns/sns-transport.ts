import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { CarrierLimits, CarrierUsage } from '../../src/limits.js';
import type { TraceFields } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_AWS_SNS_TOPIC_ARN,
  ATTR_MESSAGING_DESTINATION_NAME,
  MESSAGING_SYSTEM_NAME_VALUE_AWS_SNS,
} from '../../src/semconv.js';
import type { ProducerTransport } from '../../src/transport.js';
import type { SqsOutgoingMessage } from '../sqs/internal-types.js';
import { batchClearlyFits, messageBytes, messageBytesExact } from '../sqs/message-size.js';
import type { SnsOutgoingMessage } from './internal-types.js';

/** SNS allows at most 10 message attributes on one message (and SQS, for raw delivery). */
const MAX_MESSAGE_ATTRIBUTES = 10;
/** SNS allows message attribute names of up to 256 characters. */
const MAX_ATTRIBUTE_NAME_BYTES = 256;
/** Each injected attribute also carries its data type, `String`, which SNS counts too. */
const INJECTED_TYPE_BYTES = 3 * 'String'.length;
/** Longer than any SNS ARN; a longer "ARN" is not recorded (attribute values stay bounded). */
const MAX_ARN_LENGTH = 2048;

/**
 * The destination of an SMS `Publish` (`PhoneNumber`) in span names. The number itself is
 * personal data and never recorded.
 */
export const PHONE_NUMBER_DESTINATION = 'phone_number';

/**
 * The description of SNS's producer side for the core (see {@link ProducerTransport}):
 * message attributes as the carrier, SNS's limits (10 attributes, 256 KiB for message and
 * attributes), and the topic's name and ARN as the destination. SNS has no system attribute
 * like SQS's `AWSTraceHeader`: a message with no room for `traceparent` goes without trace
 * context. One per instrumented client.
 */
export class SnsTransport implements ProducerTransport<SnsOutgoingMessage> {
  readonly system = MESSAGING_SYSTEM_NAME_VALUE_AWS_SNS;
  readonly limits: CarrierLimits;

  /**
   * Bytes that the rest of a `PublishBatch` takes, while its entries are fitted one by one:
   * the batch's whole payload must stay under the same limit as one message. Set and reset
   * synchronously around each entry's injection, so no other message ever sees it.
   */
  batchBytes = 0;

  constructor(private readonly maxMessageBytes: number) {
    this.limits = {
      maxEntries: MAX_MESSAGE_ATTRIBUTES,
      maxKeyBytes: MAX_ATTRIBUTE_NAME_BYTES,
      maxTotalBytes: maxMessageBytes,
    };
  }

  withHeaders(message: SnsOutgoingMessage, fields: TraceFields): SnsOutgoingMessage {
    if (typeof message !== 'object' || message === null) return message;
    const own: unknown = message.MessageAttributes;
    if (own !== undefined && own !== null && (typeof own !== 'object' || Array.isArray(own))) {
      reportOnce(
        'sns:attributes-not-object',
        'an SNS message whose MessageAttributes is not an object was published as it was, ' +
          'without trace context',
      );
      return message;
    }
    let attributes: Record<string, MessageAttributeValue> | undefined;
    for (const key in fields) {
      attributes ??= { ...message.MessageAttributes };
      attributes[key] = { DataType: 'String', StringValue: fields[key] };
    }
    return attributes === undefined ? message : { ...message, MessageAttributes: attributes };
  }

  usage(message: SnsOutgoingMessage): CarrierUsage {
    if (typeof message !== 'object' || message === null) return { entries: 0 };
    const entries = countOwnKeys(message.MessageAttributes);
    const budget = this.maxMessageBytes - this.batchBytes;
    const bytes = messageBytes(sizeView(message), budget) + this.batchBytes + INJECTED_TYPE_BYTES;
    return { entries, bytes };
  }

  /**
   * Called when not even `traceparent` fits. SNS's `Publish` has no system attributes (no
   * `MessageSystemAttributes`, unlike SQS's `SendMessage`), so there is nowhere else to put
   * the context: the message goes as it is, and `diag` says so once.
   */
  withFallbackContext(message: SnsOutgoingMessage, _spanContext: SpanContext): SnsOutgoingMessage {
    reportOnce(
      'sns:no-context',
      'an SNS message had no room for a traceparent message attribute (10 attributes, or its ' +
        'size limit) and SNS has no system attribute to carry it instead: it was published ' +
        'without trace context, and its subscribers start a new trace',
    );
    return message;
  }

  describeOutgoing(message: SnsOutgoingMessage, attributes: Attributes): string {
    if (typeof message !== 'object' || message === null) return '';
    const topicArn: unknown = message.TopicArn;
    const arn = typeof topicArn === 'string' && topicArn !== '' ? topicArn : message.TargetArn;
    if (typeof arn === 'string' && arn !== '') return describeSnsTarget(arn, attributes);
    const phoneNumber: unknown = message.PhoneNumber;
    return typeof phoneNumber === 'string' && phoneNumber !== '' ? PHONE_NUMBER_DESTINATION : '';
  }
}

/**
 * Adds the attributes of a topic (or platform endpoint) ARN — `messaging.destination.name`,
 * and `aws.sns.topic.arn` for topics — and returns the name for span names ('' when it is
 * not a usable ARN):
 * - `arn:aws:sns:us-east-1:123456789012:orders` → `orders` (a topic: the ARN's last part);
 * - `arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/5e3e…` → `endpoint/GCM/app` (a
 *   mobile push endpoint: its id left out, so span names stay few).
 */
export function describeSnsTarget(arn: unknown, attributes: Attributes): string {
  if (typeof arn !== 'string' || arn === '' || arn.length > MAX_ARN_LENGTH) return '';
  const resource = arn.slice(arn.lastIndexOf(':') + 1);
  const slash = resource.lastIndexOf('/');
  const name = slash === -1 ? resource : resource.slice(0, slash);
  if (name === '') return '';
  attributes[ATTR_MESSAGING_DESTINATION_NAME] = name;
  if (slash === -1) attributes[ATTR_AWS_SNS_TOPIC_ARN] = arn;
  return name;
}

/** The exact bytes SNS counts for a message: message, attribute names, types and values. */
export function snsMessageBytesExact(message: SnsOutgoingMessage): number {
  return typeof message === 'object' && message !== null ? messageBytesExact(sizeView(message)) : 0;
}

/**
 * Whether a whole `PublishBatch` stays so far under `budget`, trace fields for every entry
 * included, that its entries need no accounting against each other.
 */
export function snsBatchClearlyFits(
  entries: readonly SnsOutgoingMessage[],
  budget: number,
): boolean {
  const views: SqsOutgoingMessage[] = [];
  for (const entry of entries) {
    if (typeof entry === 'object' && entry !== null) views.push(sizeView(entry));
  }
  return batchClearlyFits(views, budget);
}

/**
 * SNS counts a message's size exactly as SQS does (message body plus each attribute's name,
 * type and value), under the same 256 KiB: the SQS counting is reused on this view.
 */
function sizeView(message: SnsOutgoingMessage): SqsOutgoingMessage {
  return { MessageBody: message.Message, MessageAttributes: message.MessageAttributes };
}

/** How many own keys an object has, without building the array `Object.keys` would. */
function countOwnKeys(object: unknown): number {
  let count = 0;
  if (typeof object !== 'object' || object === null) return count;
  for (const key in object) if (Object.hasOwn(object, key)) count++;
  return count;
}
