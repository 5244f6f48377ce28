import type { Message } from '@aws-sdk/client-sqs';
import { TraceFlags } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import {
  awsTraceHeaderToTraceparent,
  fromAwsTraceHeader,
  toAwsTraceHeader,
} from '../../../adapters/sqs/aws-trace-header.js';
import { readLambdaSqsHeader } from '../../../adapters/sqs/lambda-transport.js';
import { snsEnvelopeOf } from '../../../adapters/sqs/sns-envelope.js';
import { readSqsHeader } from '../../../adapters/sqs/sqs-transport.js';
import type { LambdaSqsRecord } from '../../../adapters/sqs/types.js';

const TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const SPAN_ID = '53995c3f42cd8ad8';
const XRAY = `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=1`;
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('X-Ray AWSTraceHeader ↔ W3C', () => {
  it('maps a span context to the X-Ray header and back without loss', () => {
    const spanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED };
    expect(toAwsTraceHeader(spanContext)).toBe(XRAY);
    expect(fromAwsTraceHeader(XRAY)).toEqual({ ...spanContext, isRemote: true });
    const unsampled = { ...spanContext, traceFlags: TraceFlags.NONE };
    expect(fromAwsTraceHeader(toAwsTraceHeader(unsampled))).toEqual({
      ...unsampled,
      isRemote: true,
    });
  });

  it.each([
    ['Sampled=0', `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=0`, '00'],
    [
      'deferred Sampled=?',
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID};Sampled=?`,
      '00',
    ],
    ['no Sampled', `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID}`, '00'],
    [
      'fields reordered, spaces, extra fields',
      `Sampled=1; Lineage=a87bd80c:1|68fd508a:5 ;Parent=${SPAN_ID};Root=1-5759e988-bd862e3fe1be46a994272793;Self=1-abc`,
      '01',
    ],
  ])('reads %s', (_, header, flags) => {
    expect(awsTraceHeaderToTraceparent(header)).toBe(`00-${TRACE_ID}-${SPAN_ID}-${flags}`);
  });

  it.each([
    ['no Parent', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'],
    ['no Root', `Parent=${SPAN_ID};Sampled=1`],
    ['short Root', `Root=1-5759e988-bd862e3fe1be46a99427279;Parent=${SPAN_ID}`],
    ['Root version 2', `Root=2-5759e988-bd862e3fe1be46a994272793;Parent=${SPAN_ID}`],
    ['Root without dashes', `Root=15759e988bd862e3fe1be46a994272793;Parent=${SPAN_ID}`],
    ['short Parent', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f'],
    ['too long', `${XRAY};${'x'.repeat(300)}`],
    ['empty', ''],
    ['a number', 42],
    ['an object', { Root: 'x' }],
  ])('ignores an X-Ray header with %s', (_, header) => {
    expect(awsTraceHeaderToTraceparent(header)).toBeUndefined();
    expect(fromAwsTraceHeader(header)).toBeUndefined();
  });

  it('leaves hex validation to the W3C parser: uppercase ids are no context', () => {
    expect(
      fromAwsTraceHeader(XRAY.toUpperCase().replace('ROOT', 'Root').replace('PARENT', 'Parent')),
    ).toBeUndefined();
  });
});

function envelope(attributes: object, extra = ''): string {
  return `{\n  "Type" : "Notification",\n  "MessageId" : "m",\n  "TopicArn" : "arn:aws:sns:us-east-1:1:t",${extra}\n  "Message" : "hi",\n  "MessageAttributes" : ${JSON.stringify(attributes)}\n}`;
}

describe('SNS envelopes', () => {
  it('parses an envelope once per message object', () => {
    const message = { Body: envelope({ traceparent: { Type: 'String', Value: OTHER } }) };
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const first = snsEnvelopeOf(message, message.Body);
      const second = snsEnvelopeOf(message, message.Body);
      expect(first).toBe(second);
      expect(first?.topicArn).toBe('arn:aws:sns:us-east-1:1:t');
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('does not parse bodies that do not start like an envelope', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const body of [
        'plain text',
        '{"orderId": 1}',
        `{"a":"${'x'.repeat(200)}","Type":"Notification"}`,
        '',
        undefined,
        42,
      ]) {
        expect(snsEnvelopeOf({}, body)).toBeUndefined();
      }
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it.each([
    ['broken JSON', '{"Type" : "Notification", '],
    ['another Type', '{"Type" : "SubscriptionConfirmation", "x": "Notification"}'],
    ['no MessageAttributes', '{"Type" : "Notification", "Message": "hi"}'],
    ['MessageAttributes not an object', '{"Type" : "Notification", "MessageAttributes": "x"}'],
    ['a JSON string', '"Notification"'],
  ])('treats %s as no envelope', (_, body) => {
    expect(snsEnvelopeOf({}, body)).toBeUndefined();
  });
});

function sqsMessage(parts: Partial<Message>): Message {
  return { MessageId: 'id', ...parts };
}

describe('context sources of an SDK message, in order', () => {
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value });

  it('1. the traceparent message attribute wins over AWSTraceHeader and an SNS envelope', () => {
    const message = sqsMessage({
      MessageAttributes: { traceparent: attribute(OTHER), baggage: attribute('k=v') },
      Attributes: { AWSTraceHeader: XRAY },
      Body: envelope({ traceparent: { Type: 'String', Value: TRACEPARENT } }),
    });
    expect(readSqsHeader(message, 'traceparent')).toBe(OTHER);
    expect(readSqsHeader(message, 'baggage')).toBe('k=v');
  });

  it('2. AWSTraceHeader answers for traceparent when there is no traceparent attribute', () => {
    const message = sqsMessage({
      Attributes: { AWSTraceHeader: XRAY },
      Body: envelope({
        traceparent: { Type: 'String', Value: OTHER },
        baggage: { Type: 'String', Value: 'k=v' },
      }),
    });
    expect(readSqsHeader(message, 'traceparent')).toBe(TRACEPARENT);
    expect(readSqsHeader(message, 'baggage')).toBeUndefined();
  });

  it('3. an SNS envelope, for every field, when neither is there', () => {
    const message = sqsMessage({
      Body: envelope({
        traceparent: { Type: 'String', Value: OTHER },
        baggage: { Type: 'Binary', Value: Buffer.from('k=v').toString('base64') },
      }),
    });
    expect(readSqsHeader(message, 'traceparent')).toBe(OTHER);
    expect(readSqsHeader(message, 'baggage')).toEqual(Buffer.from('k=v'));
  });

  it('reads binary attribute values as bytes, for the core to decode', () => {
    const bytes = new TextEncoder().encode(OTHER);
    const message = sqsMessage({
      MessageAttributes: { traceparent: { DataType: 'Binary', BinaryValue: bytes } },
    });
    expect(readSqsHeader(message, 'traceparent')).toBe(bytes);
  });

  it('a Lambda record: messageAttributes, then attributes.AWSTraceHeader, then an SNS envelope', () => {
    const record = (parts: Partial<LambdaSqsRecord>): LambdaSqsRecord => ({
      messageId: 'id',
      receiptHandle: 'rh',
      body: '',
      attributes: {},
      messageAttributes: {},
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
      ...parts,
    });
    expect(
      readLambdaSqsHeader(
        record({
          messageAttributes: { traceparent: { stringValue: OTHER, dataType: 'String' } },
          attributes: { AWSTraceHeader: XRAY },
        }),
        'traceparent',
      ),
    ).toBe(OTHER);
    expect(
      readLambdaSqsHeader(record({ attributes: { AWSTraceHeader: XRAY } }), 'traceparent'),
    ).toBe(TRACEPARENT);
    expect(
      readLambdaSqsHeader(
        record({ body: envelope({ traceparent: { Type: 'String', Value: OTHER } }) }),
        'traceparent',
      ),
    ).toBe(OTHER);
    const base64 = Buffer.from(OTHER).toString('base64');
    expect(
      readLambdaSqsHeader(
        record({ messageAttributes: { traceparent: { binaryValue: base64, dataType: 'Binary' } } }),
        'traceparent',
      ),
    ).toEqual(Buffer.from(OTHER));
  });
});
