/**
 * The `contextSource` option and its ready-made sources, on a minimal transport: a message
 * whose standard headers carry no context is continued from where a hand-rolled producer
 * put it (body field, other header names, the application's own function); anything
 * malformed is processed on a new trace, said once, never thrown; and a message with
 * standard headers never reaches a source.
 */
import { context, propagation, trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import {
  ATTR_CONTEXT_SOURCE,
  fromBodyField,
  fromHeaders,
  MAX_CONTEXT_BODY_BYTES,
  type ContextSource,
  type ContextSourceInput,
} from '../../src/context-source.js';
import type { ConsumerOptions } from '../../src/options.js';
import { captureDiagWarnings, setupTestTracing } from '../../src/testing/index.js';
import type { ConsumerTransport } from '../../src/transport.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
const diagWarnings = captureDiagWarnings();
const warnings = diagWarnings.messages;

beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  vi.restoreAllMocks();
  expect(tracing.openSpans()).toEqual([]);
});

interface TestMessage {
  readonly headers: Record<string, unknown>;
  readonly body?: string | Uint8Array;
}

const transport: ConsumerTransport<TestMessage> = {
  system: 'test',
  readHeader: (message, key) => message.headers[key],
  body: (message) => message.body,
  describeIncoming: () => 'orders',
};

const lifecycle: ConsumerLifecycle<TestMessage> = { callerAwaits: true };

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const HEADER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const HEADER_SPAN_ID = 'b7ad6b7169203331';

/** Processes `message` with `options`; returns its `process` span and the handler's view. */
function processOne(
  message: TestMessage,
  options: ConsumerOptions<TestMessage>,
): { span: ReadableSpan; active: SpanContext | undefined; baggage: string | undefined } {
  const tracer = new ConsumerTracer(transport, options);
  let active: SpanContext | undefined;
  let baggage: string | undefined;
  tracer.process(
    message,
    lifecycle,
    () => {
      active = trace.getActiveSpan()?.spanContext();
      baggage = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
    },
    undefined,
    undefined,
  );
  const spans = tracing.spans().filter((span) => span.name === 'process orders');
  expect(spans).toHaveLength(1);
  tracing.reset();
  return { span: spans[0] as ReadableSpan, active, baggage };
}

const json = (value: unknown): string => JSON.stringify(value);
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function expectContinued(span: ReadableSpan, kind: string): void {
  expect(span.spanContext().traceId).toBe(TRACE_ID);
  expect(span.parentSpanContext?.spanId).toBe(SPAN_ID);
  expect(span.links.map((link) => link.context.spanId)).toEqual([SPAN_ID]);
  expect(span.attributes[ATTR_CONTEXT_SOURCE]).toBe(kind);
}

function expectNewTrace(span: ReadableSpan): void {
  expect(span.spanContext().traceId).not.toBe(TRACE_ID);
  expect(span.parentSpanContext).toBeUndefined();
  expect(span.links).toEqual([]);
  expect(span.attributes[ATTR_CONTEXT_SOURCE]).toBeUndefined();
}

describe('fromBodyField', () => {
  it('continues from an object holding the W3C fields, with tracestate and baggage', () => {
    const body = json({
      orderId: 7,
      traceContext: { traceparent: TRACEPARENT, tracestate: 'vendor=x', baggage: 'tenant=acme' },
    });
    const { span, active, baggage } = processOne(
      { headers: {}, body: bytes(body) },
      { contextSource: fromBodyField('traceContext') },
    );
    expectContinued(span, 'body');
    expect(span.parentSpanContext?.traceState?.get('vendor')).toBe('x');
    expect(active?.spanId).toBe(span.spanContext().spanId);
    expect(baggage).toBe('acme');
    expect(warnings).toEqual([]);
  });

  it('continues from a path to the traceparent string itself (body as a string, as SQS has it)', () => {
    const { span } = processOne(
      { headers: {}, body: json({ meta: { traceparent: TRACEPARENT } }) },
      { contextSource: fromBodyField('meta.traceparent') },
    );
    expectContinued(span, 'body');
  });

  it('follows an array path whose keys contain dots', () => {
    const { span } = processOne(
      { headers: {}, body: json({ meta: { 'trace.ctx': { traceparent: TRACEPARENT } } }) },
      { contextSource: fromBodyField(['meta', 'trace.ctx']) },
    );
    expectContinued(span, 'body');
  });

  it('finds nothing (and says nothing) where the path is missing, not an object, or inherited', () => {
    for (const [path, body] of [
      ['traceContext', { other: 1 }],
      ['traceContext.traceparent', { traceContext: 'flat' }],
      ['toString', { a: 1 }],
      ['traceContext', { traceContext: { traceparent: 42 } }],
      ['traceContext', [TRACEPARENT]],
    ] as const) {
      const { span } = processOne(
        { headers: {}, body: json(body) },
        { contextSource: fromBodyField(path) },
      );
      expectNewTrace(span);
    }
    expect(warnings).toEqual([]);
  });

  it('rejects an empty path when it is made', () => {
    expect(() => fromBodyField('')).toThrow(TypeError);
    expect(() => fromBodyField('a..b')).toThrow(TypeError);
    expect(() => fromBodyField([])).toThrow(TypeError);
  });
});

describe('fromHeaders', () => {
  it('reads the W3C fields from headers of other names, through the transport', () => {
    const { span, baggage } = processOne(
      {
        headers: {
          'x-trace-parent': Buffer.from(TRACEPARENT),
          'x-trace-state': 'vendor=y',
          'x-baggage': 'tenant=globex',
        },
      },
      {
        contextSource: fromHeaders({
          traceparent: 'x-trace-parent',
          tracestate: 'x-trace-state',
          baggage: 'x-baggage',
        }),
      },
    );
    expectContinued(span, 'header-alias');
    expect(span.parentSpanContext?.traceState?.get('vendor')).toBe('y');
    expect(baggage).toBe('globex');
  });

  it('finds nothing when the alias is absent, and is checked when it is made', () => {
    const { span } = processOne(
      { headers: { 'x-request-id': 'abc' } },
      { contextSource: fromHeaders({ traceparent: 'x-trace-parent' }) },
    );
    expectNewTrace(span);
    expect(warnings).toEqual([]);
    expect(() => fromHeaders({ traceparent: '' })).toThrow(TypeError);
    expect(() => fromHeaders(undefined as unknown as { traceparent: string })).toThrow(TypeError);
  });
});

describe('custom sources and lists of sources', () => {
  it('tries each source in order; the first valid context wins and names its kind', () => {
    const calls: string[] = [];
    const custom: ContextSource<TestMessage> = (message) => {
      calls.push('custom');
      const id = message.headers['x-trace-id'];
      return typeof id === 'string' ? { traceparent: `00-${id}-${SPAN_ID}-01` } : undefined;
    };
    const { span } = processOne(
      { headers: { 'x-trace-id': TRACE_ID }, body: json({ traceContext: 'not a traceparent' }) },
      { contextSource: [fromBodyField('traceContext'), custom] },
    );
    expectContinued(span, 'custom');
    expect(calls).toEqual(['custom']);
    // The body source returned a malformed traceparent first: said once.
    expect(warnings).toEqual([expect.stringContaining('malformed traceparent')]);
  });

  it('parses the body once however many sources ask for it', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const seen: unknown[] = [];
    const peek: ContextSource = (_message, input) => {
      seen.push(input.json());
      return undefined;
    };
    const { span } = processOne(
      { headers: {}, body: json({ traceContext: { traceparent: TRACEPARENT } }) },
      { contextSource: [peek, peek, fromBodyField('traceContext')] },
    );
    expectContinued(span, 'body');
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('continues with relation link as a new trace linked to the body context', () => {
    const { span } = processOne(
      { headers: {}, body: json({ traceContext: { traceparent: TRACEPARENT } }) },
      { contextSource: fromBodyField('traceContext'), relation: 'link' },
    );
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context.spanId)).toEqual([SPAN_ID]);
    expect(span.attributes[ATTR_CONTEXT_SOURCE]).toBe('body');
  });

  it('is consulted under an active local span (a receive loop), and links to it as headers would', () => {
    const loop = trace.getTracer('test').startSpan('poll');
    const { span } = context.with(trace.setSpan(context.active(), loop), () =>
      processOne(
        { headers: {}, body: json({ traceContext: { traceparent: TRACEPARENT } }) },
        { contextSource: fromBodyField('traceContext') },
      ),
    );
    loop.end();
    expect(span.parentSpanContext?.spanId).toBe(SPAN_ID);
    expect(span.links.map((link) => link.context.spanId)).toEqual([
      SPAN_ID,
      loop.spanContext().spanId,
    ]);
  });

  it('rejects an option that is not a function or a list of them when the consumer is made', () => {
    const bad = { contextSource: 'traceContext' } as unknown as ConsumerOptions<TestMessage>;
    expect(() => new ConsumerTracer(transport, bad)).toThrow(TypeError);
  });
});

describe('the fast path: standard headers', () => {
  it('a message with a valid traceparent header never reaches a source', () => {
    const source = vi.fn<ContextSource<TestMessage>>(() => ({ traceparent: TRACEPARENT }));
    const parse = vi.spyOn(JSON, 'parse');
    const { span } = processOne(
      {
        headers: { traceparent: `00-${HEADER_TRACE_ID}-${HEADER_SPAN_ID}-01` },
        body: json({ traceContext: { traceparent: TRACEPARENT } }),
      },
      { contextSource: [source, fromBodyField('traceContext')] },
    );
    expect(source).toHaveBeenCalledTimes(0);
    expect(parse).not.toHaveBeenCalled();
    expect(span.parentSpanContext?.spanId).toBe(HEADER_SPAN_ID);
    expect(span.attributes[ATTR_CONTEXT_SOURCE]).toBeUndefined();
  });

  it('a malformed traceparent header does count as absent: the source is asked', () => {
    const { span } = processOne(
      {
        headers: { traceparent: `00-${HEADER_TRACE_ID.toUpperCase()}-${HEADER_SPAN_ID}-01` },
        body: json({ traceContext: { traceparent: TRACEPARENT } }),
      },
      { contextSource: fromBodyField('traceContext') },
    );
    expectContinued(span, 'body');
  });
});

describe('never break messaging', () => {
  it('a malformed body traceparent: new trace, said once for many messages', () => {
    for (const traceparent of [
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      'ff-not-a-traceparent',
      `00-${TRACE_ID}-${SPAN_ID}`,
    ]) {
      const { span } = processOne(
        { headers: {}, body: json({ traceContext: { traceparent } }) },
        { contextSource: fromBodyField('traceContext') },
      );
      expectNewTrace(span);
    }
    expect(warnings).toEqual([
      'tracehop: a contextSource (body) found a malformed traceparent on a test message; it was processed on a new trace',
    ]);
  });

  it('a body that is not JSON: new trace, said once', () => {
    for (const body of ['order 7', bytes('<xml/>'), '{"traceContext":']) {
      const { span } = processOne({ headers: {}, body }, { contextSource: fromBodyField('x') });
      expectNewTrace(span);
    }
    expect(warnings).toEqual([expect.stringContaining('body without trace headers is not JSON')]);
  });

  it('a body over the bound is never parsed, even when it holds a valid context: new trace, said once', () => {
    const padding = 'x'.repeat(MAX_CONTEXT_BODY_BYTES);
    const huge = json({ traceContext: { traceparent: TRACEPARENT }, padding });
    expect(huge.length).toBeGreaterThan(MAX_CONTEXT_BODY_BYTES);
    const parse = vi.spyOn(JSON, 'parse');
    const results: unknown[] = [];
    const counting: ContextSource<TestMessage> = (message, input: ContextSourceInput) => {
      results.push(input.json());
      return fromBodyField('traceContext')(message, input);
    };
    for (const body of [huge, bytes(huge)]) {
      const { span } = processOne({ headers: {}, body }, { contextSource: counting });
      expectNewTrace(span);
    }
    expect(results).toEqual([undefined, undefined]);
    expect(parse).not.toHaveBeenCalled();
    expect(warnings).toEqual([
      `tracehop: a test message body without trace headers is over ${MAX_CONTEXT_BODY_BYTES} bytes: it was not parsed for a trace context, and the message was processed on a new trace`,
    ]);
  });

  it('a body exactly at the bound is still parsed', () => {
    const base = json({ traceContext: { traceparent: TRACEPARENT }, padding: '' });
    const atBound = json({
      traceContext: { traceparent: TRACEPARENT },
      padding: 'x'.repeat(MAX_CONTEXT_BODY_BYTES - base.length),
    });
    expect(atBound.length).toBe(MAX_CONTEXT_BODY_BYTES);
    const { span } = processOne(
      { headers: {}, body: bytes(atBound) },
      { contextSource: fromBodyField('traceContext') },
    );
    expectContinued(span, 'body');
  });

  it('a source that throws or returns a promise: the handler still runs, on a new trace, said once each', () => {
    const throwing: ContextSource<TestMessage> = () => {
      throw new Error('bad source');
    };
    const asyncSource = (() =>
      Promise.resolve({ traceparent: TRACEPARENT })) as unknown as ContextSource<TestMessage>;
    for (const source of [throwing, throwing, asyncSource, asyncSource]) {
      const { span, active } = processOne({ headers: {} }, { contextSource: source });
      expectNewTrace(span);
      expect(active?.spanId).toBe(span.spanContext().spanId);
    }
    expect(warnings).toEqual([
      'tracehop: a contextSource threw on a test message (Error: bad source); it was processed on a new trace',
      expect.stringContaining('returned a promise'),
    ]);
  });

  it('a transport without a body: body sources find nothing, said once', () => {
    const noBody: ConsumerTransport<TestMessage> = { ...transport, body: undefined };
    const tracer = new ConsumerTracer(noBody, { contextSource: fromBodyField('traceContext') });
    for (let i = 0; i < 2; i++) {
      tracer.process(
        { headers: {}, body: json({ traceContext: { traceparent: TRACEPARENT } }) },
        lifecycle,
        () => undefined,
        undefined,
        undefined,
      );
    }
    const spans = tracing.spans();
    expect(spans).toHaveLength(2);
    for (const span of spans) expectNewTrace(span);
    expect(warnings).toEqual([expect.stringContaining('cannot read message bodies')]);
  });
});
