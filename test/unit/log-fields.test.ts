import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { traceLogFields } from '../../src/log-fields.js';
import { setupTestTracing } from '../../src/testing/index.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

describe('traceLogFields', () => {
  it('is empty outside any span', () => {
    expect(traceLogFields(ROOT_CONTEXT)).toEqual({});
  });

  it('gives the ids of the active span', () => {
    const span = trace.getTracer('t').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () => {
      expect(traceLogFields()).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        trace_flags: '01',
      });
    });
    span.end();
  });

  it('says when the span is not sampled', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    expect(traceLogFields(ctx).trace_flags).toBe('00');
  });
});
