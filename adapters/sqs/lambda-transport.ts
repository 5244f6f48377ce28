import type { Attributes } from '@opentelemetry/api';
import { readHeaderIgnoringCase } from '../../src/header-names.js';
import { TRACEPARENT } from '../../src/propagation.js';
import {
  ATTR_AWS_SNS_TOPIC_ARN,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS,
} from '../../src/semconv.js';
import type { ConsumerTransport } from '../../src/transport.js';
import { ATTR_SQS_APPROXIMATE_RECEIVE_COUNT } from './attributes.js';
import { awsTraceHeaderToTraceparent } from './aws-trace-header.js';
import { queueNameFromArn } from './queue-info.js';
import { snsEnvelopeHasTraceparent, snsEnvelopeHeader, snsEnvelopeOf } from './sns-envelope.js';
import { receiveCount, sentTimestamp } from './sqs-transport.js';
import type { LambdaSqsMessageAttribute, LambdaSqsRecord } from './types.js';

/**
 * The description of a Lambda SQS event record for the core: consumer side only (a
 * Lambda function receives records, it never sends one through this transport), with
 * the same context sources, in the same order, as SDK messages.
 */
export const lambdaSqsTransport: ConsumerTransport<LambdaSqsRecord> = {
  system: MESSAGING_SYSTEM_NAME_VALUE_AWS_SQS,
  readHeader: readLambdaSqsHeader,
  /** The record's `body`, for a `contextSource` that reads the body. */
  body(record) {
    const body: unknown = record?.body;
    return typeof body === 'string' ? body : undefined;
  },
  /** The record's `attributes.SentTimestamp`: when SQS accepted the message (epoch ms). */
  sentAt(record) {
    return sentTimestamp(record?.attributes?.SentTimestamp);
  },
  describeIncoming(record, attributes: Attributes) {
    // Optional chaining throughout: whatever a handler is given still gets a span.
    const name = queueNameFromArn(record?.eventSourceARN);
    if (name !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = name;
    return name ?? '';
  },
  /** Message id, receive count, the SNS topic of an envelope: only on spans that record. */
  describeIncomingDetails(record, attributes: Attributes) {
    if (typeof record?.messageId === 'string') {
      attributes[ATTR_MESSAGING_MESSAGE_ID] = record.messageId;
    }
    const count = receiveCount(record?.attributes?.ApproximateReceiveCount);
    if (count !== undefined) attributes[ATTR_SQS_APPROXIMATE_RECEIVE_COUNT] = count;
    const envelope = snsEnvelopeOf(record, record?.body);
    if (envelope?.topicArn !== undefined) attributes[ATTR_AWS_SNS_TOPIC_ARN] = envelope.topicArn;
  },
};

/**
 * Reads one trace header of a Lambda SQS record: `messageAttributes` holding
 * `traceparent`, then `attributes.AWSTraceHeader`, then an SNS envelope in the body (see
 * `readSqsHeader`, which does the same for SDK messages). Attribute names match exactly,
 * else in any case (`TraceParent` holds `traceparent`; see `readHeaderIgnoringCase`).
 */
export function readLambdaSqsHeader(record: LambdaSqsRecord, key: string): unknown {
  const attributes = record?.messageAttributes;
  const own = readHeaderIgnoringCase(attributes, key) as LambdaSqsMessageAttribute | undefined;
  const traceparent = key === TRACEPARENT ? own : readHeaderIgnoringCase(attributes, TRACEPARENT);
  if (traceparent !== undefined) return attributeValue(own);
  const awsTraceHeader = record?.attributes?.AWSTraceHeader;
  if (awsTraceHeader !== undefined) {
    return key === TRACEPARENT ? awsTraceHeaderToTraceparent(awsTraceHeader) : attributeValue(own);
  }
  const envelope = snsEnvelopeOf(record, record?.body);
  if (envelope !== undefined && snsEnvelopeHasTraceparent(envelope)) {
    return snsEnvelopeHeader(envelope, key);
  }
  return attributeValue(own);
}

function attributeValue(attribute: LambdaSqsMessageAttribute | undefined): unknown {
  if (attribute === undefined || attribute === null) return undefined;
  if (attribute.stringValue !== undefined) return attribute.stringValue;
  const binary = attribute.binaryValue;
  return typeof binary === 'string' ? Buffer.from(binary, 'base64') : undefined;
}
