import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { pino } from 'pino';
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

  it('works as a pino mixin outside any span, where pino adds the call’s fields to it', () => {
    const written: string[] = [];
    const logger = pino(
      { mixin: () => traceLogFields() },
      { write: (line: string) => void written.push(line) },
    );
    logger.info({ port: 3000 }, 'listening'); // pino assigns { port } onto the mixin's object
    logger.info({ port: 3001 }, 'again');
    expect(written.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { port: 3000, msg: 'listening' },
      { port: 3001, msg: 'again' },
    ]);
    expect(traceLogFields()).toEqual({});
  });
});
