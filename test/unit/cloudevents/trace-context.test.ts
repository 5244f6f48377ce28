import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { CloudEvent } from 'cloudevents';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readTraceContext,
  recordCloudEvent,
  withTraceContext,
} from '../../../adapters/cloudevents/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { fieldsOf } from './fields.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
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

const order = () =>
  new CloudEvent({
    type: 'com.example.order.created',
    source: '/orders',
    subject: 'o-1',
    data: { id: 1 },
  });

describe('withTraceContext', () => {
  it('clones the frozen event with the context of a new CloudEvents Create span, valid in strict mode', () => {
    const event = order();
    const request = tracer.startSpan('POST /orders');
    const traced = context.with(trace.setSpan(context.active(), request), () =>
      withTraceContext(event),
    );
    request.end();

    expect(Object.isFrozen(event)).toBe(true);
    expect(event.traceparent).toBeUndefined();
    expect(traced).not.toBe(event);
    expect(traced).toBeInstanceOf(CloudEvent);
    const create = tracing
      .spans()
      .find((s) => s.name === 'CloudEvents Create com.example.order.created');
    expect(create?.kind).toBe(SpanKind.PRODUCER);
    expect(create?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(create?.attributes).toEqual({
      'cloudevents.event_id': event.id,
      'cloudevents.event_source': '/orders',
      'cloudevents.event_spec_version': '1.0',
      'cloudevents.event_type': 'com.example.order.created',
      'cloudevents.event_subject': 'o-1',
    });
    const { traceId, spanId } = create?.spanContext() ?? { traceId: '', spanId: '' };
    expect(traced.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(traced.tracestate).toBeUndefined();
    expect({ ...fieldsOf(traced), traceparent: undefined }).toEqual(fieldsOf(event));
    expect(new CloudEvent(fieldsOf(traced), true).validate()).toBe(true);
  });

  it('never modifies an extension that is already set, and makes no span for it', () => {
    const traced = withTraceContext(order());
    tracing.reset();
    const request = tracer.startSpan('another hop');
    expect(
      context.with(trace.setSpan(context.active(), request), () => withTraceContext(traced)),
    ).toBe(traced);
    request.end();
    expect(tracing.spans().map((s) => s.name)).toEqual(['another hop']);
    // Even a malformed one: it is the event's, not tracehop's, to change.
    const odd = new CloudEvent({ ...fieldsOf(order()), traceparent: 'garbage' });
    expect(withTraceContext(odd)).toBe(odd);
  });

  it('createSpan: false carries the given context and its tracestate', () => {
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      traceState: new TraceState('vendor=abc'),
    };
    const traced = withTraceContext(order(), {
      createSpan: false,
      context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
    });
    expect(traced.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
    expect(traced.tracestate).toBe('vendor=abc');
    expect(tracing.spans()).toEqual([]);
  });

  it('without a valid context the event is returned unchanged', () => {
    const event = order();
    expect(withTraceContext(event, { createSpan: false, context: ROOT_CONTEXT })).toBe(event);
  });

  it('an event that fails strict validation still gets the extension, said once through diag', () => {
    const lenient = new CloudEvent({ type: 'x', source: '/s', BadName: 'v' }, false);
    const traced = withTraceContext(lenient);
    expect(typeof traced.traceparent).toBe('string');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("not valid in the SDK's strict mode");
  });

  it('plain objects are copied, not modified', () => {
    const plain = { id: '1', source: '/s', type: 't', specversion: '1.0' };
    const traced = withTraceContext(plain);
    expect(plain).toEqual({ id: '1', source: '/s', type: 't', specversion: '1.0' });
    expect(traced).toMatchObject({
      ...plain,
      traceparent: expect.stringMatching(/^00-/) as string,
    });
  });
});

describe('readTraceContext', () => {
  it('reads the extension as a remote span context with its tracestate', () => {
    const event = new CloudEvent({
      ...fieldsOf(order()),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'congo=t61rcWkgMzE',
    });
    const spanContext = readTraceContext(event);
    expect(spanContext).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(spanContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
  });

  it.each([
    ['absent', undefined],
    ['garbage', 'nope'],
    ['upper case', '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01'],
    ['zero span id', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'],
    ['version ff', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['a number', 42],
    ['an array', ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x']],
  ])('a %s traceparent reads as none', (_label, traceparent) => {
    const event = { ...fieldsOf(order()), traceparent } as unknown as CloudEvent<unknown>;
    expect(readTraceContext(event)).toBeUndefined();
  });
});

describe('recordCloudEvent', () => {
  it('adds the event attributes and a link to its creation context to the active span', () => {
    const event = new CloudEvent({
      ...fieldsOf(order()),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    tracer.startActiveSpan('process orders', (span) => {
      recordCloudEvent(event);
      span.end();
    });
    const [span] = tracing.spans();
    expect(span?.attributes).toMatchObject({
      'cloudevents.event_id': event.id,
      'cloudevents.event_subject': 'o-1',
    });
    expect(span?.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    // No active span: nothing to do, nothing thrown.
    expect(() => recordCloudEvent(event)).not.toThrow();
  });
});
