import { PubSub, type Message, type Topic } from '@google-cloud/pubsub';
import {
  context,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  PUBSUB_LIMITS,
  PubSubTransport,
  tracePubSub,
  tracePubSubHandler,
  traceTopic,
} from '../../../adapters/pubsub/index.js';
import { ProducerTracer } from '../../../src/producer-tracer.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { FakeMessage } from './fakes.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

const transport = new PubSubTransport('orders', 'orders-worker');
const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const OTHER = '00-11111111111111111111111111111111-2222222222222222-01';

describe('PubSubTransport', () => {
  it('reads the plain W3C attributes first, then the client’s googclient_ ones', () => {
    const both = new FakeMessage('1', {
      traceparent: PARENT,
      tracestate: 'a=1',
      googclient_traceparent: OTHER,
      googclient_tracestate: 'g=2',
    });
    expect(transport.readHeader(both, 'traceparent')).toBe(PARENT);
    expect(transport.readHeader(both, 'tracestate')).toBe('a=1');
    const clientOnly = new FakeMessage('2', {
      googclient_traceparent: OTHER,
      googclient_tracestate: 'g=2',
    });
    expect(transport.readHeader(clientOnly, 'traceparent')).toBe(OTHER);
    expect(transport.readHeader(clientOnly, 'tracestate')).toBe('g=2');
    // Never mixes a plain traceparent with the client's tracestate.
    const plainOnly = new FakeMessage('3', { traceparent: PARENT, googclient_tracestate: 'g=2' });
    expect(transport.readHeader(plainOnly, 'tracestate')).toBeUndefined();
    expect(transport.readHeader(new FakeMessage('4'), 'baggage')).toBeUndefined();
  });

  it('counts the caller’s attributes plus one kept for googclient_traceparent, which tracehop’s copy fills', () => {
    const reserved = ['googclient_traceparent'];
    expect(transport.usage({ data: Buffer.from('x') })).toEqual({ entries: 1, reserved });
    expect(transport.usage({ attributes: { a: '1', b: '2' } })).toEqual({ entries: 3, reserved });
    // The caller's own googclient_* attribute: no copies on that message; the room for the
    // client's googclient_traceparent is kept unless the caller's own already takes it.
    expect(transport.usage({ attributes: { a: '1', googclient_traceparent: OTHER } })).toEqual({
      entries: 2,
      copies: false,
    });
    expect(transport.usage({ attributes: { a: '1', googclient_tracestate: 'g=2' } })).toEqual({
      entries: 3,
      copies: false,
    });
  });

  it('injects under the limits in bytes: multi-byte baggage is trimmed, traceparent kept', () => {
    const tracer = new ProducerTracer(transport);
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    };
    // 'é' percent-encodes to 6 bytes: 200 of them are 1200 bytes per member.
    const baggage = propagation.createBaggage({
      small: { value: 'ok' },
      big: { value: 'é'.repeat(200) },
    });
    const ctx = propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, spanContext), baggage);
    const message = { data: Buffer.from('x'), attributes: { mine: 'ünïcödé' } };
    const traced = tracer.inject(message, ctx);
    expect(traced.attributes).toEqual({
      mine: 'ünïcödé',
      traceparent: PARENT,
      googclient_traceparent: PARENT,
      baggage: 'small=ok',
    });
    expect(message.attributes).toEqual({ mine: 'ünïcödé' });
    expect(PUBSUB_LIMITS).toEqual({
      maxEntries: 100,
      maxKeyBytes: 256,
      maxValueBytes: 1024,
      copies: { traceparent: 'googclient_traceparent', tracestate: 'googclient_tracestate' },
    });
  });

  it('with 99 attributes of the caller, no W3C field fits; the context goes in the attribute kept for googclient_traceparent', () => {
    const tracer = new ProducerTracer(transport);
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 99; i++) attributes[`k${i}`] = 'v';
    const span = tracing.provider.getTracer('t').startSpan('x');
    const traced = tracer.inject({ attributes }, trace.setSpan(context.active(), span));
    span.end();
    const { traceId, spanId } = span.spanContext();
    // 100 in all: the client's own googclient_traceparent, when its tracing is on, replaces
    // tracehop's in place; tracePubSubHandler reads it when there is no plain traceparent.
    expect(traced.attributes).toEqual({
      ...attributes,
      googclient_traceparent: `00-${traceId}-${spanId}-01`,
    });
  });

  it('with 100 attributes of the caller, the message goes as it is', () => {
    const tracer = new ProducerTracer(transport);
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 100; i++) attributes[`k${i}`] = 'v';
    const span = tracing.provider.getTracer('t').startSpan('x');
    const traced = tracer.inject({ attributes }, trace.setSpan(context.active(), span));
    span.end();
    expect(traced.attributes).toEqual(attributes);
  });
});

describe('the googclient_* copies for subscribers using the client’s built-in tracing', () => {
  const withState = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    traceState: createTraceState('vendor=abc,other=1'),
  });

  it('carry the same traceparent and tracestate', () => {
    const tracer = new ProducerTracer(transport);
    const traced = tracer.inject({ data: Buffer.from('x') }, withState);
    expect(traced.attributes).toEqual({
      traceparent: PARENT,
      tracestate: 'vendor=abc,other=1',
      googclient_traceparent: PARENT,
      googclient_tracestate: 'vendor=abc,other=1',
    });
  });

  it('near the limit: googclient_tracestate goes first; googclient_traceparent keeps the attribute kept for the client', () => {
    const tracer = new ProducerTracer(transport);
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 97; i++) attributes[`k${i}`] = 'v';
    const traced = tracer.inject({ attributes }, withState);
    expect(traced.attributes).toEqual({
      ...attributes,
      traceparent: PARENT,
      tracestate: 'vendor=abc,other=1',
      googclient_traceparent: PARENT,
    });
    // One more of the caller's: tracestate goes too (after its copy), traceparent stays.
    attributes['k97'] = 'v';
    expect(tracer.inject({ attributes }, withState).attributes).toEqual({
      ...attributes,
      traceparent: PARENT,
      googclient_traceparent: PARENT,
    });
  });

  it('never replace the caller’s own googclient_traceparent or googclient_tracestate, nor pair them with a copy', () => {
    const tracer = new ProducerTracer(transport);
    for (const own of [
      { googclient_traceparent: OTHER } as Record<string, string>,
      { googclient_tracestate: 'mine=1' },
      { googclient_traceparent: OTHER, googclient_tracestate: 'mine=1' },
    ]) {
      const message = { data: Buffer.from('x'), attributes: { a: '1', ...own } };
      const traced = tracer.inject(message, withState);
      expect(traced.attributes).toEqual({
        a: '1',
        ...own,
        traceparent: PARENT,
        tracestate: 'vendor=abc,other=1',
      });
      // The caller's message is untouched.
      expect(message.attributes).toEqual({ a: '1', ...own });
    }
    // Called directly with copies in the fields, withHeaders keeps the caller's pair as it is.
    const caller = { data: Buffer.from('x'), attributes: { googclient_traceparent: OTHER } };
    expect(
      transport.withHeaders(caller, {
        traceparent: PARENT,
        googclient_traceparent: PARENT,
        googclient_tracestate: 'vendor=abc',
      }).attributes,
    ).toEqual({ googclient_traceparent: OTHER, traceparent: PARENT });
    expect(caller.attributes).toEqual({ googclient_traceparent: OTHER });
  });
});

describe('types of the real client', () => {
  it('traceTopic, tracePubSub and tracePubSubHandler accept and return the client’s own types', () => {
    // Type-level only: nothing here talks to a server (nor looks for a metadata server).
    process.env['METADATA_SERVER_DETECTION'] = 'none';
    const pubsub = new PubSub({ projectId: 'tracehop-test', apiEndpoint: '127.0.0.1:1' });
    const topic = traceTopic(pubsub.topic('orders'));
    expectTypeOf(topic).toEqualTypeOf<Topic>();
    expectTypeOf(tracePubSub(pubsub)).toEqualTypeOf<PubSub>();
    const subscription = pubsub.subscription('orders-worker');
    const handler = tracePubSubHandler((message: Message) => Promise.resolve(message.ack()), {
      subscription,
    });
    expectTypeOf(handler).toEqualTypeOf<(message: Message) => Promise<void>>();
    // The client's documented pattern is an async listener; this line checks the types fit.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- see above
    subscription.on('message', handler);
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- see above
    subscription.removeListener('message', handler);
    expect(topic.name).toBe('projects/tracehop-test/topics/orders');
    return pubsub.close();
  });
});
