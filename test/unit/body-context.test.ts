/**
 * toBodyField: the producer's transition helper writes the context into a copy of a JSON
 * object body, byte for byte otherwise, in the shape fromBodyField reads — and leaves
 * anything else as it was, said once, never thrown.
 */
import { context, propagation, trace, type Span } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toBodyField } from '../../src/body-context.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import {
  ATTR_CONTEXT_SOURCE,
  fromBodyField,
  MAX_CONTEXT_BODY_BYTES,
} from '../../src/context-source.js';
import { captureDiagWarnings, setupTestTracing } from '../../src/testing/index.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
const diagWarnings = captureDiagWarnings();
const warnings = diagWarnings.messages;

let span: Span;
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
  span = trace.getTracer('test').startSpan('POST /orders');
});
afterEach(() => {
  span.end();
  diagWarnings.stop();
  vi.restoreAllMocks();
  expect(tracing.openSpans()).toEqual([]);
});

const inSpan = <T>(fn: () => T): T => context.with(trace.setSpan(context.active(), span), fn);
const traceparent = () =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-0${span.spanContext().traceFlags}`;

describe('toBodyField', () => {
  it('adds the field to a copy of a string body, keeping the rest of the text exactly', () => {
    const body = '{ "orderId": 12345678901234567890,\n  "note": "a } in a string" }\n';
    const out = inSpan(() => toBodyField(body, 'traceContext'));
    expect(out).toBe(
      `{ "orderId": 12345678901234567890,\n  "note": "a } in a string" ,"traceContext":{"traceparent":"${traceparent()}"}}\n`,
    );
    expect(JSON.parse(out)).toMatchObject({ note: 'a } in a string' });
    expect(warnings).toEqual([]);
  });

  it('returns a new buffer and leaves the caller’s untouched; baggage and tracestate go along', () => {
    const body = Buffer.from(JSON.stringify({ orderId: 7 }));
    const copy = Buffer.from(body);
    const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
    const ctx = propagation.setBaggage(trace.setSpan(context.active(), span), baggage);
    const out = toBodyField(body, 'traceContext', ctx);
    expect(out).not.toBe(body);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(body.equals(copy)).toBe(true);
    expect(JSON.parse(out.toString())).toEqual({
      orderId: 7,
      traceContext: { traceparent: traceparent(), baggage: 'tenant=acme' },
    });
  });

  it('writes into an empty object', () => {
    const out = inSpan(() => toBodyField('{}', 'tc'));
    expect(JSON.parse(out)).toEqual({ tc: { traceparent: traceparent() } });
  });

  it('what it writes is what fromBodyField reads: the consumer continues under the span', () => {
    const body = inSpan(() => toBodyField(Buffer.from('{"orderId":7}'), 'traceContext'));
    const tracer = new ConsumerTracer(
      {
        system: 'test',
        readHeader: () => undefined,
        body: (message: Uint8Array) => message,
        describeIncoming: () => 'orders',
      },
      { contextSource: fromBodyField('traceContext') },
    );
    tracer.process(body, { callerAwaits: true }, () => undefined, undefined, undefined);
    const [processSpan] = tracing.spans().filter((s) => s.name === 'process orders');
    expect(processSpan?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(processSpan?.attributes[ATTR_CONTEXT_SOURCE]).toBe('body');
  });

  it('leaves non-JSON, non-object, non-UTF-8 bodies as they are, said once', () => {
    const bodies = [
      'plain text',
      '[1,2]',
      '"a string"',
      Buffer.from([0x7b, 0xff, 0x7d]),
      '{"a":',
    ] as const;
    for (const body of bodies) {
      const out = inSpan(() =>
        typeof body === 'string' ? toBodyField(body, 'tc') : toBodyField(body, 'tc'),
      );
      expect(out).toBe(body);
    }
    // One kind of problem, said once however many bodies have it.
    expect(warnings).toEqual([
      'tracehop: toBodyField: a message body is not JSON: it was sent without the trace context in its body (the headers still carry it)',
    ]);
  });

  it('leaves a body that already has the field (a forwarded message) as it was', () => {
    const body = '{"tc":{"traceparent":"00-old"}}';
    expect(inSpan(() => toBodyField(body, 'tc'))).toBe(body);
    expect(warnings).toEqual([expect.stringContaining("already has a 'tc' field")]);
  });

  it('never parses a body over the bound', () => {
    const huge = JSON.stringify({ padding: 'x'.repeat(MAX_CONTEXT_BODY_BYTES) });
    const parse = vi.spyOn(JSON, 'parse');
    expect(inSpan(() => toBodyField(huge, 'tc'))).toBe(huge);
    const hugeBytes = Buffer.from(huge);
    expect(inSpan(() => toBodyField(hugeBytes, 'tc'))).toBe(hugeBytes);
    expect(parse).not.toHaveBeenCalled();
    expect(warnings).toEqual([expect.stringContaining(`over ${MAX_CONTEXT_BODY_BYTES} bytes`)]);
  });

  it('without a span, or with a dotted field name, returns the body as it was', () => {
    const body = '{"a":1}';
    expect(toBodyField(body, 'tc')).toBe(body);
    expect(warnings).toEqual([]);
    expect(inSpan(() => toBodyField(body, 'meta.tc'))).toBe(body);
    expect(inSpan(() => toBodyField(body, ''))).toBe(body);
    expect(warnings).toEqual([expect.stringContaining('one top-level key without dots')]);
  });
});
