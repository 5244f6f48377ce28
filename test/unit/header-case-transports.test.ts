/**
 * Trace headers in any case (`TraceParent`, `TRACESTATE`, `Baggage`) on every transport's
 * `readHeader`: the exact name still wins, the SQS/Lambda context sources keep their order
 * with a mixed-case `traceparent` counting as present, and Pub/Sub keeps plain W3C names
 * ahead of `googclient_*`. The last tests extract through the core's getter, as a consumer does.
 */
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import type { Message as AmqpMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../../adapters/amqp/index.js';
import { PubSubTransport, type PubSubMessage } from '../../adapters/pubsub/index.js';
import { readLambdaSqsHeader } from '../../adapters/sqs/lambda-transport.js';
import { readSqsHeader } from '../../adapters/sqs/sqs-transport.js';
import type { LambdaSqsRecord } from '../../adapters/sqs/types.js';
import { extractMessageContext, safeGetter } from '../../src/propagation.js';
import { FakeMessage } from './pubsub/fakes.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;
const OTHER = '00-11111111111111111111111111111111-2222222222222222-01';
const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const XRAY_AS_TRACEPARENT = '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01';

const amqp = createAmqpTransport();
const pubsub = new PubSubTransport('orders', 'orders-worker');

function amqpMessage(headers: unknown): AmqpMessage {
  return {
    content: Buffer.from('x'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' },
    properties: { headers },
  } as unknown as AmqpMessage;
}

const sqsText = (value: string) => ({ DataType: 'String', StringValue: value });
const lambdaText = (value: string) => ({ stringValue: value, dataType: 'String' });
const snsText = (value: string) => ({ Type: 'String', Value: value });

function envelope(attributes: object): string {
  return `{\n  "Type" : "Notification",\n  "MessageId" : "m",\n  "TopicArn" : "arn:aws:sns:us-east-1:1:t",\n  "Message" : "hi",\n  "MessageAttributes" : ${JSON.stringify(attributes)}\n}`;
}

function record(parts: Partial<LambdaSqsRecord>): LambdaSqsRecord {
  return {
    messageId: 'id',
    receiptHandle: 'rh',
    body: '',
    attributes: {},
    messageAttributes: {},
    eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
    ...parts,
  };
}

describe('RabbitMQ readHeader', () => {
  it('reads TraceParent, TRACESTATE and Baggage for the W3C names', () => {
    const message = amqpMessage({ TraceParent: TP, TRACESTATE: 'v=1', Baggage: 'k=v' });
    expect(amqp.readHeader(message, 'traceparent')).toBe(TP);
    expect(amqp.readHeader(message, 'tracestate')).toBe('v=1');
    expect(amqp.readHeader(message, 'baggage')).toBe('k=v');
  });

  it('the exact lower-case header wins over a mixed-case one', () => {
    const message = amqpMessage({ TraceParent: OTHER, traceparent: TP });
    expect(amqp.readHeader(message, 'traceparent')).toBe(TP);
  });

  it.each([
    ['no headers', undefined],
    ['null', null],
    ['a string', 'TraceParent'],
    ['an array', ['TraceParent']],
  ])('%s: no header, no throw', (_, headers) => {
    expect(amqp.readHeader(amqpMessage(headers), 'traceparent')).toBeUndefined();
  });
});

describe('SQS readSqsHeader: sources in order, names in any case', () => {
  it('a TraceParent attribute counts as present: it wins over AWSTraceHeader and an SNS envelope', () => {
    const message: SqsMessage = {
      MessageAttributes: {
        TraceParent: sqsText(TP),
        TraceState: sqsText('v=1'),
        Baggage: sqsText('k=v'),
      },
      Attributes: { AWSTraceHeader: XRAY },
      Body: envelope({ traceparent: snsText(OTHER), tracestate: snsText('sns=1') }),
    };
    expect(readSqsHeader(message, 'traceparent')).toBe(TP);
    expect(readSqsHeader(message, 'tracestate')).toBe('v=1');
    expect(readSqsHeader(message, 'baggage')).toBe('k=v');
  });

  it('all caps as well', () => {
    const message: SqsMessage = {
      MessageAttributes: { TRACEPARENT: sqsText(TP), TRACESTATE: sqsText('v=1') },
      Attributes: { AWSTraceHeader: XRAY },
    };
    expect(readSqsHeader(message, 'traceparent')).toBe(TP);
    expect(readSqsHeader(message, 'tracestate')).toBe('v=1');
  });

  it('the exact traceparent attribute wins over TraceParent', () => {
    const message: SqsMessage = {
      MessageAttributes: { TraceParent: sqsText(OTHER), traceparent: sqsText(TP) },
    };
    expect(readSqsHeader(message, 'traceparent')).toBe(TP);
  });

  it('without a traceparent in any case, AWSTraceHeader answers for traceparent, and a mixed-case envelope is not read', () => {
    const message: SqsMessage = {
      MessageAttributes: { Baggage: sqsText('k=v') },
      Attributes: { AWSTraceHeader: XRAY },
      Body: envelope({ TraceParent: snsText(OTHER), TraceState: snsText('sns=1') }),
    };
    expect(readSqsHeader(message, 'traceparent')).toBe(XRAY_AS_TRACEPARENT);
    expect(readSqsHeader(message, 'tracestate')).toBeUndefined();
    expect(readSqsHeader(message, 'baggage')).toBe('k=v');
  });

  it('an SNS envelope whose attributes are TraceParent/TraceState/Baggage is the source when nothing else is', () => {
    const message: SqsMessage = {
      MessageAttributes: { tenant: sqsText('acme') },
      Body: envelope({
        TraceParent: snsText(TP),
        TRACESTATE: snsText('v=1'),
        Baggage: { Type: 'Binary', Value: Buffer.from('k=v').toString('base64') },
      }),
    };
    expect(readSqsHeader(message, 'traceparent')).toBe(TP);
    expect(readSqsHeader(message, 'tracestate')).toBe('v=1');
    expect(readSqsHeader(message, 'baggage')).toEqual(Buffer.from('k=v'));
  });

  it('hostile attribute maps: no throw, no context', () => {
    for (const MessageAttributes of [null, 'TraceParent', 42, ['TraceParent']]) {
      const message = { MessageAttributes } as unknown as SqsMessage;
      expect(readSqsHeader(message, 'traceparent')).toBeUndefined();
      expect(readSqsHeader(message, 'baggage')).toBeUndefined();
    }
    const throwing = {
      MessageAttributes: Object.defineProperty({}, 'TraceParent', {
        enumerable: true,
        get() {
          throw new Error('boom');
        },
      }),
      Attributes: { AWSTraceHeader: XRAY },
    } as SqsMessage;
    // the unreadable attribute is no traceparent: the next source answers
    expect(readSqsHeader(throwing, 'traceparent')).toBe(XRAY_AS_TRACEPARENT);
  });
});

describe('Lambda readLambdaSqsHeader: the same order, names in any case', () => {
  it('a TraceParent messageAttribute wins over AWSTraceHeader', () => {
    const withAttributes = record({
      messageAttributes: {
        TraceParent: lambdaText(TP),
        TRACESTATE: lambdaText('v=1'),
        Baggage: lambdaText('k=v'),
      },
      attributes: { AWSTraceHeader: XRAY },
    });
    expect(readLambdaSqsHeader(withAttributes, 'traceparent')).toBe(TP);
    expect(readLambdaSqsHeader(withAttributes, 'tracestate')).toBe('v=1');
    expect(readLambdaSqsHeader(withAttributes, 'baggage')).toBe('k=v');
  });

  it('AWSTraceHeader wins over a TraceParent in an SNS envelope; the envelope answers alone', () => {
    const body = envelope({ TraceParent: snsText(OTHER), TraceState: snsText('sns=1') });
    expect(
      readLambdaSqsHeader(record({ attributes: { AWSTraceHeader: XRAY }, body }), 'traceparent'),
    ).toBe(XRAY_AS_TRACEPARENT);
    expect(readLambdaSqsHeader(record({ body }), 'traceparent')).toBe(OTHER);
    expect(readLambdaSqsHeader(record({ body }), 'tracestate')).toBe('sns=1');
  });
});

describe('Pub/Sub readHeader: plain W3C names first, then googclient_*, all in any case', () => {
  it('TraceParent wins over googclient_traceparent, and brings its own TraceState', () => {
    const message = new FakeMessage('1', {
      TraceParent: TP,
      TraceState: 'v=1',
      Baggage: 'k=v',
      googclient_traceparent: OTHER,
      googclient_tracestate: 'g=2',
    });
    expect(pubsub.readHeader(message, 'traceparent')).toBe(TP);
    expect(pubsub.readHeader(message, 'tracestate')).toBe('v=1');
    expect(pubsub.readHeader(message, 'baggage')).toBe('k=v');
  });

  it('without a plain traceparent in any case, the googclient_ pair in any case', () => {
    const message = new FakeMessage('2', {
      GOOGCLIENT_TRACEPARENT: OTHER,
      Googclient_TraceState: 'g=2',
    });
    expect(pubsub.readHeader(message, 'traceparent')).toBe(OTHER);
    expect(pubsub.readHeader(message, 'tracestate')).toBe('g=2');
  });

  it('never mixes a plain TraceParent with the client’s tracestate', () => {
    const message = new FakeMessage('3', { TraceParent: TP, googclient_tracestate: 'g=2' });
    expect(pubsub.readHeader(message, 'tracestate')).toBeUndefined();
  });

  it('the exact traceparent wins over TraceParent', () => {
    const message = new FakeMessage('4', { TraceParent: OTHER, traceparent: TP });
    expect(pubsub.readHeader(message, 'traceparent')).toBe(TP);
  });
});

describe('extracted through the core getter, as a consumer does', () => {
  function check(context: Context): void {
    const spanContext = trace.getSpanContext(context);
    expect(spanContext?.traceId).toBe(TRACE_ID);
    expect(spanContext?.spanId).toBe(SPAN_ID);
    expect(spanContext?.isRemote).toBe(true);
    expect(spanContext?.traceState?.serialize()).toBe('vendor=v1,other=o2');
    expect(propagation.getBaggage(context)?.getEntry('tenant')?.value).toBe('acme');
  }

  it('RabbitMQ headers', () => {
    const message = amqpMessage({
      TraceParent: TP,
      TraceState: 'vendor=v1,other=o2',
      Baggage: 'tenant=acme',
    });
    check(extractMessageContext(message, safeGetter(amqp.readHeader.bind(amqp)), ROOT_CONTEXT));
  });

  it('SQS attributes, all caps', () => {
    const message: SqsMessage = {
      MessageAttributes: {
        TRACEPARENT: sqsText(TP),
        TRACESTATE: sqsText('vendor=v1,other=o2'),
        BAGGAGE: sqsText('tenant=acme'),
      },
    };
    check(extractMessageContext(message, safeGetter(readSqsHeader), ROOT_CONTEXT));
  });

  it('Pub/Sub attributes', () => {
    const message: PubSubMessage = new FakeMessage('5', {
      TraceParent: TP,
      TraceState: 'vendor=v1,other=o2',
      Baggage: 'tenant=acme',
    });
    check(extractMessageContext(message, safeGetter(pubsub.readHeader.bind(pubsub)), ROOT_CONTEXT));
  });
});
