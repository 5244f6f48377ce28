import { CloudEvent, ValidationError } from 'cloudevents';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  fromAmqpMessage,
  fromPubSubMessage,
  fromSqsMessage,
  isPubSubCloudEvent,
  toAmqpMessage,
  toPubSubMessage,
  toSqsMessage,
  type ContentMode,
} from '../../../adapters/cloudevents/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { fieldsOf } from './fields.js';

const tracing = setupTestTracing();
const diagWarnings = captureDiagWarnings();
const warnings = diagWarnings.messages;
afterAll(() => tracing.shutdown());
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const attributes = {
  id: 'evt-1',
  type: 'com.example.order.created',
  source: '/orders',
  subject: 'order-42',
  time: '2026-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  data: { id: 42, note: 'crème ✓' },
  traceparent: TRACEPARENT,
  tracestate: 'congo=t61rcWkgMzE',
};

/** 9 SQS attributes in binary mode, under SQS's 10. */
const compact = new CloudEvent(attributes);
/** The same with an integer and a boolean extension. */
const event = new CloudEvent({ ...attributes, priority: 3, urgent: true });

/** Each binding as a round trip: encode for sending, decode as received. */
const roundTrips: Record<
  string,
  (e: CloudEvent<unknown>, mode: ContentMode) => CloudEvent<unknown>
> = {
  pubsub: (e, mode) => fromPubSubMessage(toPubSubMessage(e, { mode })),
  amqp: (e, mode) => fromAmqpMessage(toAmqpMessage(e, { mode })),
  sqs: (e, mode) => {
    const sent = toSqsMessage(e, { mode });
    return fromSqsMessage({ Body: sent.MessageBody, MessageAttributes: sent.MessageAttributes });
  },
};

describe('bindings round trips', () => {
  for (const [name, roundTrip] of Object.entries(roundTrips)) {
    for (const mode of ['binary', 'structured'] as const) {
      it(`${name} ${mode}: the event comes back intact, extension included`, () => {
        // SQS allows 10 attributes: its binary round trip uses the compact event.
        const sent = name === 'sqs' ? compact : event;
        const decoded = roundTrip(sent, mode);
        expect(decoded).toBeInstanceOf(CloudEvent);
        const expected = fieldsOf(sent);
        if (mode === 'binary' && sent === event) {
          // Canonical string form in binary mode, as the bindings define.
          expected['priority'] = '3';
          expected['urgent'] = 'true';
        }
        expect(fieldsOf(decoded)).toEqual(expected);
        expect(decoded.validate()).toBe(true);
        // Nothing made a span: the event already had its creation context.
        expect(tracing.spans()).toEqual([]);
      });
    }
  }

  it('the extension is written by one code path for every binding', () => {
    const pubsub = toPubSubMessage(event);
    const amqp = toAmqpMessage(event);
    const sqs = toSqsMessage(compact, { mode: 'binary' });
    expect(pubsub.attributes['ce-traceparent']).toBe(TRACEPARENT);
    expect(pubsub.attributes['ce-tracestate']).toBe('congo=t61rcWkgMzE');
    expect(amqp.properties.headers['cloudEvents:traceparent']).toBe(TRACEPARENT);
    expect(amqp.properties.headers['cloudEvents:tracestate']).toBe('congo=t61rcWkgMzE');
    expect(sqs.MessageAttributes['ce-traceparent']).toEqual({
      DataType: 'String',
      StringValue: TRACEPARENT,
    });
  });
});

describe('Pub/Sub binding', () => {
  it('binary mode: ce- attributes, content-type, the data as the message data, your attributes and ordering key', () => {
    const message = toPubSubMessage(event, {
      attributes: { team: 'billing' },
      orderingKey: 'o-42',
    });
    expect(message.attributes).toEqual({
      team: 'billing',
      'ce-id': 'evt-1',
      'ce-type': 'com.example.order.created',
      'ce-source': '/orders',
      'ce-specversion': '1.0',
      'ce-subject': 'order-42',
      'ce-time': '2026-01-02T03:04:05.678Z',
      'ce-traceparent': TRACEPARENT,
      'ce-tracestate': 'congo=t61rcWkgMzE',
      'ce-priority': '3',
      'ce-urgent': 'true',
      'content-type': 'application/json',
    });
    expect(JSON.parse(message.data.toString('utf8'))).toEqual({ id: 42, note: 'crème ✓' });
    expect(message.orderingKey).toBe('o-42');
  });

  it('structured mode: the JSON event as data and the CloudEvents content type', () => {
    const message = toPubSubMessage(event, { mode: 'structured' });
    expect(message.attributes).toEqual({ 'content-type': CLOUDEVENTS_JSON_CONTENT_TYPE });
    expect(JSON.parse(message.data.toString('utf8'))).toMatchObject({
      id: 'evt-1',
      traceparent: TRACEPARENT,
    });
  });

  it('binary data travels as bytes in binary mode and as data_base64 in structured mode', () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const binary = new CloudEvent({
      type: 't',
      source: '/s',
      datacontenttype: 'application/octet-stream',
      data: bytes,
      traceparent: TRACEPARENT,
    });
    const asBinary = toPubSubMessage(binary);
    expect([...asBinary.data]).toEqual([0, 1, 2, 250, 255]);
    expect(Buffer.from(fromPubSubMessage<Uint8Array>(asBinary).data as Uint8Array)).toEqual(
      Buffer.from(bytes),
    );
    const asStructured = toPubSubMessage(binary, { mode: 'structured' });
    expect(JSON.parse(asStructured.data.toString())).toMatchObject({ data_base64: 'AAEC+v8=' });
    expect(fromPubSubMessage(asStructured).data_base64).toBe('AAEC+v8=');
  });

  it('reads attribute names case-insensitively, and text data as a string', () => {
    const decoded = fromPubSubMessage({
      data: Buffer.from('hello'),
      attributes: {
        'CE-ID': '1',
        'Ce-Source': '/s',
        'ce-TYPE': 't',
        'ce-specversion': '1.0',
        'Content-Type': 'text/plain',
      },
    });
    expect(decoded).toMatchObject({
      id: '1',
      source: '/s',
      type: 't',
      datacontenttype: 'text/plain',
      data: 'hello',
    });
  });

  it('tells CloudEvents from other messages, and refuses to decode the others', () => {
    const plain = { data: Buffer.from('x'), attributes: { traceparent: TRACEPARENT } };
    expect(isPubSubCloudEvent(plain)).toBe(false);
    expect(isPubSubCloudEvent(toPubSubMessage(event))).toBe(true);
    expect(isPubSubCloudEvent(toPubSubMessage(event, { mode: 'structured' }))).toBe(true);
    expect(() => fromPubSubMessage(plain)).toThrow(ValidationError);
    const batch = {
      data: Buffer.from('[]'),
      attributes: { 'content-type': 'application/cloudevents-batch+json' },
    };
    expect(() => fromPubSubMessage(batch)).toThrow(ValidationError);
    const xml = {
      data: Buffer.from('<e/>'),
      attributes: { 'content-type': 'application/cloudevents+xml' },
    };
    expect(() => fromPubSubMessage(xml)).toThrow(ValidationError);
    const broken = {
      data: Buffer.from('{'),
      attributes: { 'content-type': CLOUDEVENTS_JSON_CONTENT_TYPE },
    };
    expect(() => fromPubSubMessage(broken)).toThrow(SyntaxError);
  });

  it('adds the creation context to an event that has none, unless told not to', () => {
    const bare = new CloudEvent({ type: 'com.example.ping', source: '/ping' });
    const message = toPubSubMessage(bare);
    const [create] = tracing.spans();
    expect(create?.name).toBe('CloudEvents Create com.example.ping');
    expect(message.attributes['ce-traceparent']).toBe(
      `00-${create?.spanContext().traceId}-${create?.spanContext().spanId}-01`,
    );
    expect(
      toPubSubMessage(bare, { traceContext: false }).attributes['ce-traceparent'],
    ).toBeUndefined();
    expect(tracing.spans()).toHaveLength(1);
  });
});

describe('AMQP binding', () => {
  it('binary mode for amqplib: cloudEvents: headers and contentType', () => {
    const message = toAmqpMessage(event, { headers: { 'x-retry': 1 } });
    expect(message.properties.contentType).toBe('application/json');
    expect(message.properties.headers).toMatchObject({
      'x-retry': 1,
      'cloudEvents:id': 'evt-1',
      'cloudEvents:specversion': '1.0',
      'cloudEvents:traceparent': TRACEPARENT,
    });
    expect(message.properties.headers['cloudEvents:datacontenttype']).toBeUndefined();
  });

  it('reads the cloudEvents_ prefix and other AMQP value types', () => {
    const decoded = fromAmqpMessage({
      content: Buffer.from('{"a":1}'),
      properties: {
        contentType: 'application/json',
        headers: {
          cloudEvents_id: Buffer.from('b-1'),
          cloudEvents_source: '/s',
          cloudEvents_type: 't',
          cloudEvents_specversion: '1.0',
          cloudEvents_time: new Date('2026-01-02T03:04:05.000Z'),
          cloudEvents_traceparent: Buffer.from(TRACEPARENT),
          cloudEvents_attempt: 2,
          'x-other': 'ignored',
        },
      },
    });
    expect(decoded).toMatchObject({
      id: 'b-1',
      time: '2026-01-02T03:04:05.000Z',
      traceparent: TRACEPARENT,
      attempt: 2,
      data: { a: 1 },
    });
    expect(decoded['x-other']).toBeUndefined();
  });

  it('structured mode sets the CloudEvents content type and leaves the headers to the transport', () => {
    const message = toAmqpMessage(event, { mode: 'structured' });
    expect(message.properties).toEqual({ headers: {}, contentType: CLOUDEVENTS_JSON_CONTENT_TYPE });
  });
});

describe('SQS binding', () => {
  it('defaults to structured mode: one attribute, the JSON event as body', () => {
    const message = toSqsMessage(event);
    expect(message.MessageAttributes).toEqual({
      'content-type': { DataType: 'String', StringValue: CLOUDEVENTS_JSON_CONTENT_TYPE },
    });
    expect(JSON.parse(message.MessageBody)).toMatchObject({
      id: 'evt-1',
      traceparent: TRACEPARENT,
    });
  });

  it('binary mode falls back to structured over 10 attributes or for binary data, said once', () => {
    expect(Object.keys(toSqsMessage(compact, { mode: 'binary' }).MessageAttributes)).toHaveLength(
      9,
    );
    const wider = new CloudEvent({ ...attributes, extra: 'tenth', more: 'eleventh' });
    expect(toSqsMessage(wider, { mode: 'binary' }).MessageAttributes).toEqual({
      'content-type': { DataType: 'String', StringValue: CLOUDEVENTS_JSON_CONTENT_TYPE },
    });
    const bytes = new CloudEvent({
      type: 't',
      source: '/s',
      data: new Uint8Array([1]),
      traceparent: TRACEPARENT,
    });
    expect(JSON.parse(toSqsMessage(bytes, { mode: 'binary' }).MessageBody)).toMatchObject({
      data_base64: 'AQ==',
    });
    expect(warnings).toHaveLength(2);
  });

  it('refuses a message that is not a CloudEvent', () => {
    expect(() => fromSqsMessage({ Body: 'hello', MessageAttributes: {} })).toThrow(ValidationError);
  });
});
