import type { MessageAttributeValue, SendMessageRequest } from '@aws-sdk/client-sqs';
import { TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { fitTraceFields } from '../../../src/limits.js';
import {
  batchClearlyFits,
  messageBytes,
  messageBytesExact,
  messageBytesUpperBound,
} from '../../../adapters/sqs/message-size.js';
import { isFifoQueue, queueInfo, queueNameFromArn } from '../../../adapters/sqs/queue-info.js';
import { SqsTransport } from '../../../adapters/sqs/sqs-transport.js';

const SPAN = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};
const FIELDS = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=x',
  baggage: 'tenant=acme',
};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function attributes(count: number): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
  );
}

describe('SqsTransport (outgoing)', () => {
  const transport = new SqsTransport(262_144);

  it('adds trace fields to a copy of the message attributes, as String attributes, never touching the input', () => {
    const input: SendMessageRequest = deepFreeze({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      MessageBody: 'b',
      MessageAttributes: attributes(2),
      MessageGroupId: 'g',
      MessageDeduplicationId: 'd',
    });
    const traced = transport.withHeaders(input, FIELDS);
    expect(traced).toEqual({
      ...input,
      MessageAttributes: {
        ...input.MessageAttributes,
        traceparent: { DataType: 'String', StringValue: FIELDS.traceparent },
        tracestate: { DataType: 'String', StringValue: 'vendor=x' },
        baggage: { DataType: 'String', StringValue: 'tenant=acme' },
      },
    });
    expect(transport.withHeaders(input, {})).toBe(input);
  });

  it("counts only the caller's attributes, and the body and attributes in bytes", () => {
    expect(transport.usage({ MessageBody: 'héllo', MessageAttributes: attributes(3) })).toEqual({
      entries: 3,
      bytes: messageBytes({ MessageBody: 'héllo', MessageAttributes: attributes(3) }, 262_144) + 18,
    });
    expect(transport.usage({})).toEqual({ entries: 0, bytes: 18 });
  });

  it('with 10 attributes nothing fits; with 8, traceparent and tracestate do', () => {
    const limits = transport.limits;
    expect(
      fitTraceFields(FIELDS, limits, transport.usage({ MessageAttributes: attributes(10) })).fields,
    ).toEqual({});
    expect(
      Object.keys(
        fitTraceFields(FIELDS, limits, transport.usage({ MessageAttributes: attributes(8) }))
          .fields,
      ).sort(),
    ).toEqual(['traceparent', 'tracestate']);
  });

  it("carries the context in AWSTraceHeader, keeping the caller's other system attributes and never its own header", () => {
    const input = deepFreeze({ MessageBody: 'b', MessageSystemAttributes: {} });
    expect(transport.withFallbackContext(input, SPAN)).toEqual({
      MessageBody: 'b',
      MessageSystemAttributes: {
        AWSTraceHeader: {
          DataType: 'String',
          StringValue: 'Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1',
        },
      },
    });
    const own = deepFreeze({
      MessageBody: 'b',
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-x' } },
    });
    expect(transport.withFallbackContext(own, SPAN)).toBe(own);
  });
});

describe('message size as SQS counts it', () => {
  it('counts body, attribute names, data types and values in UTF-8', () => {
    const message = {
      MessageBody: 'ü',
      MessageAttributes: {
        n: { DataType: 'String', StringValue: 'é' },
        b: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2, 3) },
      },
    };
    expect(messageBytesExact(message)).toBe(2 + (1 + 6 + 2) + (1 + 6 + 3));
    expect(messageBytesUpperBound(message)).toBeGreaterThanOrEqual(messageBytesExact(message));
  });

  it('counts exactly only near the limit', () => {
    const small = { MessageBody: 'é'.repeat(100) };
    expect(messageBytes(small, 262_144)).toBe(messageBytesUpperBound(small));
    const large = { MessageBody: 'é'.repeat(100_000) };
    expect(messageBytes(large, 262_144)).toBe(200_000);
    expect(batchClearlyFits([small, small], 262_144)).toBe(true);
    expect(batchClearlyFits([large, large], 262_144)).toBe(false);
  });

  it('never throws on what is not a message', () => {
    expect(messageBytesExact(null as never)).toBe(0);
    expect(messageBytesUpperBound({ MessageAttributes: { x: null as never } })).toBe(3);
  });
});

describe('queues', () => {
  it('names a queue from its URL, with host and port', () => {
    expect(queueInfo('https://sqs.us-east-2.amazonaws.com/123456789012/orders.fifo')).toEqual({
      url: 'https://sqs.us-east-2.amazonaws.com/123456789012/orders.fifo',
      name: 'orders.fifo',
      address: 'sqs.us-east-2.amazonaws.com',
      port: 443,
    });
    expect(queueInfo('http://localhost:4566/000000000000/q/')?.name).toBe('q');
    expect(queueInfo('just-a-name')).toEqual({
      url: 'just-a-name',
      name: 'just-a-name',
      address: undefined,
      port: undefined,
    });
    expect(queueInfo('')).toBeUndefined();
    expect(queueInfo(undefined)).toBeUndefined();
  });

  it('names a queue from its ARN and recognises FIFO queues', () => {
    expect(queueNameFromArn('arn:aws:sqs:us-east-2:123456789012:my-queue')).toBe('my-queue');
    expect(queueNameFromArn('arn:aws:sqs:us-east-2:123456789012:')).toBeUndefined();
    expect(queueNameFromArn(7)).toBeUndefined();
    expect(isFifoQueue('orders.fifo')).toBe(true);
    expect(isFifoQueue('orders')).toBe(false);
    expect(isFifoQueue(undefined)).toBe(false);
  });
});
