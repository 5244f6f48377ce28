import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_JOB_NAME, ATTR_JOB_RUN_ID, scheduledJob, traceJob } from '../../src/job.js';
import { setupTestTracing } from '../../src/testing/index.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());

describe('traceJob', () => {
  it('starts a new root trace even inside another span, and links to it', async () => {
    const outer = trace.getTracer('t').startSpan('long-lived worker');
    let innerParent: string | undefined;
    await context.with(trace.setSpan(context.active(), outer), () =>
      traceJob('daily-vuln-match', () => {
        const step = trace.getTracer('t').startSpan('match');
        innerParent = trace.getActiveSpan()?.spanContext().spanId;
        step.end();
      }),
    );
    outer.end();
    const job = tracing.spans().find((s) => s.name === 'daily-vuln-match') as ReadableSpan;
    expect(job.kind).toBe(SpanKind.INTERNAL);
    expect(job.parentSpanContext).toBeUndefined();
    expect(job.spanContext().traceId).not.toBe(outer.spanContext().traceId);
    expect(job.links.map((l) => l.context.spanId)).toEqual([outer.spanContext().spanId]);
    expect(job.attributes[ATTR_JOB_NAME]).toBe('daily-vuln-match');
    expect(job.attributes[ATTR_JOB_RUN_ID]).toMatch(/^[0-9a-f-]{36}$/);
    expect(innerParent).toBe(job.spanContext().spanId);
  });

  it('links to a previous run stored as a traceparent string, and ignores invalid links', async () => {
    let stored = '';
    await traceJob('nightly', (run) => {
      stored = run.traceparent;
    });
    await traceJob('nightly', () => undefined, { links: [stored, 'not-a-traceparent'] });
    const [first, second] = tracing.spans() as [ReadableSpan, ReadableSpan];
    expect(stored).toBe(`00-${first.spanContext().traceId}-${first.spanContext().spanId}-01`);
    expect(second.links.map((l) => l.context.spanId)).toEqual([first.spanContext().spanId]);
  });

  it('records and rethrows errors unchanged, and still flushes', async () => {
    const failure = new RangeError('feed unavailable');
    let flushed = 0;
    const original = tracing.provider.forceFlush.bind(tracing.provider);
    tracing.provider.forceFlush = () => {
      flushed++;
      return original();
    };
    await expect(
      traceJob('sync-feed', () => Promise.reject(failure), { tracerProvider: tracing.provider }),
    ).rejects.toBe(failure);
    tracing.provider.forceFlush = original;
    const job = tracing.spans()[0] as ReadableSpan;
    expect(job.status.code).toBe(SpanStatusCode.ERROR);
    expect(job.attributes['error.type']).toBe('RangeError');
    expect(flushed).toBe(1);
  });

  it('does not wait longer than flushTimeoutMs for a flush that hangs', async () => {
    const original = tracing.provider.forceFlush.bind(tracing.provider);
    tracing.provider.forceFlush = () => new Promise<void>(() => undefined);
    const result = await traceJob('hung-exporter', () => 42, {
      tracerProvider: tracing.provider,
      flushTimeoutMs: 20,
    });
    tracing.provider.forceFlush = original;
    expect(result).toBe(42);
  });
});

describe('scheduledJob', () => {
  it('makes each call a new trace linked to the previous run', async () => {
    const tick = scheduledJob('every-minute', (_run, label: string) => label.toUpperCase());
    expect(await tick('a')).toBe('A');
    expect(await tick('b')).toBe('B');
    expect(await tick('c')).toBe('C');
    const runs = tracing.spans();
    expect(new Set(runs.map((s) => s.spanContext().traceId)).size).toBe(3);
    expect(runs[0]?.links).toEqual([]);
    expect(runs[1]?.links[0]?.context.spanId).toBe(runs[0]?.spanContext().spanId);
    expect(runs[2]?.links[0]?.context.spanId).toBe(runs[1]?.spanContext().spanId);
  });
});
