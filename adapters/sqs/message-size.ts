import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SqsOutgoingMessage } from './internal-types.js';

/**
 * SQS's size limit, counted the way SQS counts it: the body plus, for every message
 * attribute, its name, its data type and its value. (System attributes such as
 * `AWSTraceHeader` do not count.)
 *
 * @packageDocumentation
 */

/**
 * The default largest message and largest `SendMessageBatch` payload: 256 KiB, the
 * limit the SQS quotas page gives and the smallest queue maximum a default queue has.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 262_144;

/**
 * More than trace fields ever add (W3C baggage ≤ 8192 bytes, tracestate ≤ 512,
 * traceparent 55, plus names and types): while a message's upper bound stays this far
 * below the limit, its bytes need not be counted exactly.
 */
const TRACE_FIELDS_HEADROOM = 9 * 1024;

/**
 * The bytes of a message as SQS counts them, or an upper bound of them when even the
 * upper bound leaves room for trace fields under `budget`. The upper bound (3 bytes per
 * UTF-16 unit) reads only string lengths; exact counting encodes, which for a large body
 * costs more than everything else tracehop does per message.
 */
export function messageBytes(message: SqsOutgoingMessage, budget: number): number {
  const upper = messageBytesUpperBound(message);
  return upper + TRACE_FIELDS_HEADROOM <= budget ? upper : messageBytesExact(message);
}

/**
 * Whether a whole `SendMessageBatch` stays so far under `budget`, trace fields for every
 * entry included, that its entries need no accounting against each other.
 */
export function batchClearlyFits(entries: readonly SqsOutgoingMessage[], budget: number): boolean {
  let upper = 0;
  for (const entry of entries) upper += messageBytesUpperBound(entry) + TRACE_FIELDS_HEADROOM;
  return upper <= budget;
}

/** An upper bound of the bytes SQS counts for the message: 3 per UTF-16 unit of each string. */
export function messageBytesUpperBound(message: SqsOutgoingMessage): number {
  if (typeof message !== 'object' || message === null) return 0;
  const body = message.MessageBody;
  let bytes = typeof body === 'string' ? body.length * 3 : 0;
  const attributes = message.MessageAttributes;
  if (attributes !== undefined && attributes !== null) {
    for (const name in attributes) {
      bytes += name.length * 3 + attributeUpperBound(attributes[name]);
    }
  }
  return bytes;
}

function attributeUpperBound(attribute: MessageAttributeValue | undefined): number {
  if (attribute === undefined || attribute === null) return 0;
  let bytes = typeof attribute.DataType === 'string' ? attribute.DataType.length * 3 : 0;
  if (typeof attribute.StringValue === 'string') bytes += attribute.StringValue.length * 3;
  if (attribute.BinaryValue instanceof Uint8Array) bytes += attribute.BinaryValue.byteLength;
  return bytes;
}

/** The bytes SQS counts for the message: UTF-8 body, attribute names, types and values. */
export function messageBytesExact(message: SqsOutgoingMessage): number {
  if (typeof message !== 'object' || message === null) return 0;
  const body = message.MessageBody;
  let bytes = typeof body === 'string' ? Buffer.byteLength(body) : 0;
  const attributes = message.MessageAttributes;
  if (attributes !== undefined && attributes !== null) {
    for (const name in attributes) {
      bytes += Buffer.byteLength(name);
      const attribute = attributes[name];
      if (attribute === undefined || attribute === null) continue;
      if (typeof attribute.DataType === 'string') bytes += Buffer.byteLength(attribute.DataType);
      if (typeof attribute.StringValue === 'string') {
        bytes += Buffer.byteLength(attribute.StringValue);
      }
      if (attribute.BinaryValue instanceof Uint8Array) bytes += attribute.BinaryValue.byteLength;
    }
  }
  return bytes;
}
