import { ROOT_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { CloudEvent, ValidationError } from 'cloudevents';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  amqpBinding,
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  pubSubBinding,
  sqsBinding,
  toAmqpMessage,
  toPubSubMessage,
  toSqsMessage,
  type AmqpReceivedMessage,
  type CloudEventBinding,
  type PubSubReceivedMessage,
  type SqsReceivedMessage,
} from '../../../adapters/cloudevents/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { fieldsOf } from './fields.js';

const tracing = setupTestTracing();
const diagWarnings = captureDiagWarnings();
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
const TRACESTATE = 'congo=t61rcWkgMzE';

const event = new CloudEvent({
  id: 'evt-1',
  type: 'com.example.order.created',
  source: '/orders',
  time: '2026-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  data: { id: 42 },
  traceparent: TRACEPARENT,
  tracestate: TRACESTATE,
});

/** The decoder side of a binding, with a way to build a received message of its broker. */
interface Receiver<TIn> {
  readonly binding: Pick<CloudEventBinding<unknown, TIn>, 'toEvent' | 'isEvent' | 'traceHeader'>;
  /** A received message: binary-mode attributes (unprefixed), a content type and a body. */
  received(attributes: Record<string, string>, contentType: string | undefined, body: string): TIn;
  /** What the binding's encoder sends, as it is received. */
  sent(mode: 'binary' | 'structured', e: CloudEvent<unknown>): TIn;
}

const pubsub: Receiver<PubSubReceivedMessage> = {
  binding: pubSubBinding,
  received: (attributes, contentType, body) => ({
    data: Buffer.from(body),
    attributes: {
      ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce-${k}`, v])),
      ...(contentType === undefined ? {} : { 'content-type': contentType }),
    },
  }),
  sent: (mode, e) => pubSubBinding[mode](e),
};

const amqp: Receiver<AmqpReceivedMessage> = {
  binding: amqpBinding,
  received: (attributes, contentType, body) => ({
    content: Buffer.from(body),
    properties: {
      contentType: contentType ?? null,
      headers: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [`cloudEvents:${k}`, v]),
      ),
    },
  }),
  sent: (mode, e) => amqpBinding[mode](e),
};

const sqs: Receiver<SqsReceivedMessage> = {
  binding: sqsBinding,
  received: (attributes, contentType, body) => ({
    Body: body,
    MessageAttributes: {
      ...Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [
          `ce-${k}`,
          { DataType: 'String', StringValue: v },
        ]),
      ),
      ...(contentType === undefined
        ? {}
        : { 'content-type': { DataType: 'String', StringValue: contentType } }),
    },
  }),
  sent: (mode, e) => {
    const message = sqsBinding[mode](e);
    return { Body: message.MessageBody, MessageAttributes: message.MessageAttributes };
  },
};

const receivers = { pubsub, amqp, sqs } as const;

const REQUIRED = { id: 'e-1', source: '/s', type: 't', specversion: '1.0' };

describe('one binding object per broker', () => {
  it('binary and structured are the to…Message functions with the mode chosen by the method', () => {
    for (const mode of ['binary', 'structured'] as const) {
      expect(pubSubBinding[mode](event)).toEqual(toPubSubMessage(event, { mode }));
      expect(amqpBinding[mode](event)).toEqual(toAmqpMessage(event, { mode }));
      expect(sqsBinding[mode](event)).toEqual(toSqsMessage(event, { mode }));
    }
    // The to…Message defaults: binary for Pub/Sub and AMQP, structured for SQS.
    expect(toPubSubMessage(event)).toEqual(pubSubBinding.binary(event));
    expect(toAmqpMessage(event)).toEqual(amqpBinding.binary(event));
    expect(toSqsMessage(event)).toEqual(sqsBinding.structured(event));
  });

  it('the encoders take the transport options and add the creation context like the functions', () => {
    const bare = new CloudEvent({ type: 'com.example.ping', source: '/ping' });
    const message = amqpBinding.structured(bare, { headers: { tenant: 'acme' } });
    expect(message.properties.headers).toEqual({ tenant: 'acme' });
    const [create] = tracing.spans();
    expect(create?.name).toBe('CloudEvents Create com.example.ping');
    expect(amqpBinding.traceHeader({ ...message }, 'traceparent')).toBe(
      `00-${create?.spanContext().traceId}-${create?.spanContext().spanId}-01`,
    );
    expect(pubSubBinding.binary(bare, { traceContext: false }).attributes).not.toHaveProperty(
      'ce-traceparent',
    );
    expect(tracing.spans()).toHaveLength(1);
  });

  it('its members work detached from the object, as callbacks', () => {
    const { binary, toEvent, isEvent, traceHeader } = pubSubBinding;
    const message = binary(event);
    expect(isEvent(message)).toBe(true);
    expect(fieldsOf(toEvent(message))).toEqual(fieldsOf(event));
    expect(traceHeader(message, 'traceparent')).toBe(TRACEPARENT);
    expect([message].map((m) => pubSubBinding.toEvent(m).id)).toEqual(['evt-1']);
  });

  it('the binding objects cannot be changed by their users', () => {
    expect(Object.isFrozen(pubSubBinding)).toBe(true);
    expect(Object.isFrozen(amqpBinding)).toBe(true);
    expect(Object.isFrozen(sqsBinding)).toBe(true);
  });
});

for (const [name, receiver] of Object.entries(receivers) as [string, Receiver<unknown>][]) {
  const { binding } = receiver;

  describe(`${name}: isEvent`, () => {
    it('tells a CloudEvent in either mode from other messages', () => {
      expect(binding.isEvent(receiver.sent('binary', event))).toBe(true);
      expect(binding.isEvent(receiver.sent('structured', event))).toBe(true);
      expect(binding.isEvent(receiver.received({}, 'text/plain', 'hi'))).toBe(false);
      expect(binding.isEvent(receiver.received({ id: 'x' }, undefined, ''))).toBe(true);
      // Only the attributes are read: a structured body that is not JSON is found out by toEvent.
      const broken = receiver.received({}, CLOUDEVENTS_JSON_CONTENT_TYPE, '{');
      expect(binding.isEvent(broken)).toBe(true);
      expect(() => binding.toEvent(broken)).toThrow(SyntaxError);
      expect(() => binding.toEvent(receiver.received({}, 'text/plain', 'hi'))).toThrow(
        ValidationError,
      );
    });
  });

  describe(`${name}: traceHeader`, () => {
    it('reads the extension in both modes', () => {
      for (const mode of ['binary', 'structured'] as const) {
        const message = receiver.sent(mode, event);
        expect(binding.traceHeader(message, 'traceparent'), mode).toBe(TRACEPARENT);
        expect(binding.traceHeader(message, 'tracestate'), mode).toBe(TRACESTATE);
      }
    });

    it('feeds the W3C propagator as a getter, for a consumer whose message has no transport context', () => {
      const getter: TextMapGetter<unknown> = {
        get: (message, key) =>
          key === 'traceparent' || key === 'tracestate'
            ? binding.traceHeader(message, key)
            : undefined,
        keys: () => [],
      };
      for (const mode of ['binary', 'structured'] as const) {
        const context = new W3CTraceContextPropagator().extract(
          ROOT_CONTEXT,
          receiver.sent(mode, event),
          getter,
        );
        const spanContext = trace.getSpanContext(context);
        expect(spanContext?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
        expect(spanContext?.spanId).toBe('b7ad6b7169203331');
        expect(spanContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
      }
    });

    it('binary mode reads the attribute only, never the data', () => {
      // JSON data that is not JSON: decoding it would keep it as text; the header does not care.
      const message = receiver.received(
        { ...REQUIRED, traceparent: TRACEPARENT },
        'application/json',
        '{not json',
      );
      expect(binding.traceHeader(message, 'traceparent')).toBe(TRACEPARENT);
    });

    it('structured mode parses the body once per message, however many values are read', () => {
      let reads = 0;
      const message = receiver.sent('structured', event);
      const counted = new Proxy(message as object, {
        get(target, key, receiverObject) {
          reads++;
          return Reflect.get(target, key, receiverObject) as unknown;
        },
      });
      expect(binding.traceHeader(counted, 'traceparent')).toBe(TRACEPARENT);
      const afterFirst = reads;
      expect(afterFirst).toBeGreaterThan(0);
      expect(binding.traceHeader(counted, 'tracestate')).toBe(TRACESTATE);
      expect(binding.traceHeader(counted, 'traceparent')).toBe(TRACEPARENT);
      expect(reads).toBe(afterFirst);
    });

    const malformed: [string, Record<string, string>][] = [
      ['garbage', { traceparent: 'garbage' }],
      ['uppercase hex', { traceparent: TRACEPARENT.toUpperCase() }],
      ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }],
      [
        'all-zero span id',
        { traceparent: `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01` },
      ],
      ['version ff', { traceparent: `ff${TRACEPARENT.slice(2)}` }],
      ['version 00 with more fields', { traceparent: `${TRACEPARENT}-00` }],
      ['far too long', { traceparent: `${TRACEPARENT}${'x'.repeat(20_000)}` }],
      ['empty', { traceparent: '' }],
    ];
    for (const [label, extension] of malformed) {
      it(`a malformed traceparent (${label}) is undefined, with its tracestate; the event still decodes`, () => {
        for (const mode of ['binary', 'structured'] as const) {
          const message =
            mode === 'binary'
              ? receiver.received(
                  { ...REQUIRED, ...extension, tracestate: TRACESTATE },
                  'application/json',
                  '{"a":1}',
                )
              : receiver.received(
                  {},
                  CLOUDEVENTS_JSON_CONTENT_TYPE,
                  JSON.stringify({ ...REQUIRED, ...extension, tracestate: TRACESTATE, data: 1 }),
                );
          expect(binding.traceHeader(message, 'traceparent'), mode).toBeUndefined();
          expect(binding.traceHeader(message, 'tracestate'), mode).toBeUndefined();
          const decoded = binding.toEvent(message);
          expect(decoded.id).toBe('e-1');
          expect(decoded.traceparent).toBe(extension['traceparent']);
        }
      });
    }

    it('a tracestate with no valid member is undefined beside a valid traceparent', () => {
      const message = receiver.received(
        { ...REQUIRED, traceparent: TRACEPARENT, tracestate: '=,=' },
        undefined,
        '',
      );
      expect(binding.traceHeader(message, 'traceparent')).toBe(TRACEPARENT);
      expect(binding.traceHeader(message, 'tracestate')).toBeUndefined();
    });

    it('structured bodies that hold no valid extension are undefined', () => {
      const bodies = [
        '{',
        '[]',
        'null',
        JSON.stringify({ ...REQUIRED, traceparent: 42 }),
        JSON.stringify({ ...REQUIRED, traceparent: [TRACEPARENT] }),
        JSON.stringify({ ...REQUIRED, traceparent: { value: TRACEPARENT } }),
        JSON.stringify(REQUIRED),
      ];
      for (const body of bodies) {
        const message = receiver.received({}, CLOUDEVENTS_JSON_CONTENT_TYPE, body);
        expect(binding.traceHeader(message, 'traceparent'), body).toBeUndefined();
        expect(binding.traceHeader(message, 'tracestate'), body).toBeUndefined();
      }
    });

    it('messages that carry no single event have no extension', () => {
      const cases = [
        // Not a CloudEvent: a ce- attribute alone does not make one.
        receiver.received({ traceparent: TRACEPARENT }, undefined, 'x'),
        // A batch: each event has its own extension.
        receiver.received(
          {},
          'application/cloudevents-batch+json',
          JSON.stringify([{ ...REQUIRED, traceparent: TRACEPARENT }]),
        ),
        // Another structured format.
        receiver.received({}, 'application/cloudevents+xml', '<traceparent/>'),
      ];
      for (const message of cases) {
        expect(binding.traceHeader(message, 'traceparent')).toBeUndefined();
      }
    });

    it('never throws, whatever it is given', () => {
      const hostile = new Proxy(
        {},
        {
          get() {
            throw new Error('hostile getter');
          },
        },
      );
      expect(binding.traceHeader(hostile, 'traceparent')).toBeUndefined();
      expect(binding.traceHeader(null, 'traceparent')).toBeUndefined();
      expect(binding.traceHeader(undefined, 'tracestate')).toBeUndefined();
      expect(diagWarnings.messages).toHaveLength(1);
    });
  });
}

describe('AMQP traceHeader', () => {
  it('reads header values as AMQP delivers them: bytes as UTF-8, numbers are not trace context', () => {
    const message = (traceparent: unknown): AmqpReceivedMessage => ({
      content: Buffer.alloc(0),
      properties: {
        headers: { cloudEvents_id: 'b-1', 'CloudEvents:TraceParent': traceparent },
      },
    });
    expect(amqpBinding.traceHeader(message(Buffer.from(TRACEPARENT)), 'traceparent')).toBe(
      TRACEPARENT,
    );
    expect(amqpBinding.traceHeader(message(TRACEPARENT), 'traceparent')).toBe(TRACEPARENT);
    expect(amqpBinding.traceHeader(message(42), 'traceparent')).toBeUndefined();
    expect(amqpBinding.traceHeader(message([TRACEPARENT]), 'traceparent')).toBeUndefined();
    expect(amqpBinding.traceHeader(message(null), 'traceparent')).toBeUndefined();
  });
});
