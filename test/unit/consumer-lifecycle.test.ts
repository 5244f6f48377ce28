import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryQueue, type MemoryMessage } from '../../examples/memory-queue/memory-queue.js';
import { traceMemoryQueue } from '../../examples/memory-queue/traced-memory-queue.js';
import { ATTR_SETTLE_LATE } from '../../src/consumer-tracer.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../src/process-scope.js';
import { captureDiagWarnings, setupTestTracing } from '../../src/testing/index.js';

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
  expect(tracing.openSpans()).toEqual([]);
});

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const one = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const found = byName(spans, name);
  expect(found, `spans named ${name}:\n${tracing.tree()}`).toHaveLength(1);
  return found[0] as ReadableSpan;
};

/** Resolves with each delivered message, in order. */
function nextMessages(
  count: number,
  consume: (h: (m: MemoryMessage) => unknown) => void,
  handler: (m: MemoryMessage) => unknown,
) {
  return new Promise<MemoryMessage[]>((resolve) => {
    const seen: MemoryMessage[] = [];
    consume((message) => {
      seen.push(message);
      try {
        return handler(message);
      } finally {
        if (seen.length === count) resolve(seen);
      }
    });
  });
}

describe('a message crossing a queue stays in one trace', () => {
  it('process is a child of send, links to it, and runs the handler in its context', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    const api = trace.getTracer('api').startSpan('POST /orders', { kind: SpanKind.SERVER });
    let handlerSpanId: string | undefined;
    const delivered = nextMessages(
      1,
      (h) => traced.consume('orders', h),
      (message) => {
        handlerSpanId = trace.getActiveSpan()?.spanContext().spanId;
        trace.getTracer('job').startSpan('charge card').end();
        traced.ack(message);
      },
    );
    context.with(trace.setSpan(context.active(), api), () =>
      traced.send({ queue: 'orders', body: '{}', headers: { user: 'kept' } }),
    );
    api.end();
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process orders').length === 1);
    const send = one(spans, 'send orders');
    const process = one(spans, 'process orders');
    const charge = one(spans, 'charge card');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(api.spanContext().spanId);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(api.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(handlerSpanId).toBe(process.spanContext().spanId);
    expect(charge.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'messaging.system.name': 'memory',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'orders',
    });
    expect(process.events.map((e) => [e.name, e.attributes?.['messaging.operation.type']])).toEqual(
      [['ack', 'settle']],
    );
  });

  it("relation 'link' starts a new trace that links to the send span and keeps baggage", async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue, { relation: 'link' });
    let seenBaggage: string | undefined;
    const delivered = nextMessages(
      1,
      (h) => traced.consume('fanout', h),
      (message) => {
        seenBaggage = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
        traced.ack(message);
      },
    );
    const withBaggage = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    context.with(withBaggage, () => traced.send({ queue: 'fanout', body: '', headers: {} }));
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process fanout').length === 1);
    const send = one(spans, 'send fanout');
    const process = one(spans, 'process fanout');
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(seenBaggage).toBe('acme');
  });

  it('applies an allow-list to inbound baggage', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue, { baggage: ['tenant'] });
    let seen: string[] = [];
    const delivered = nextMessages(
      1,
      (h) => traced.consume('q', h),
      (message) => {
        seen = (propagation.getActiveBaggage()?.getAllEntries() ?? []).map(([k]) => k);
        traced.ack(message);
      },
    );
    queue.send({ queue: 'q', body: '', headers: { baggage: 'tenant=acme,secret=x' } });
    await delivered;
    expect(seen).toEqual(['tenant']);
  });

  it('links to the ambient span as well when a message is processed inside another span', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    traced.send({ queue: 'amb', body: '', headers: {} });
    const message = await new Promise<MemoryMessage>((resolve) => queue.consume('amb', resolve));
    const batch = trace.getTracer('t').startSpan('handle batch');
    context.with(trace.setSpan(context.active(), batch), () =>
      traced.handle(message, () => traced.ack(message)),
    );
    batch.end();
    const spans = await tracing.waitForSpans((s) => byName(s, 'process amb').length === 1);
    const process = one(spans, 'process amb');
    expect(process.parentSpanContext?.spanId).toBe(one(spans, 'send amb').spanContext().spanId);
    expect(process.links.map((l) => l.context.spanId)).toEqual([
      one(spans, 'send amb').spanContext().spanId,
      batch.spanContext().spanId,
    ]);
  });
});

describe('the process span ends at the right time', () => {
  it('waits for the ack when the handler returns first', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    let held: MemoryMessage | undefined;
    const delivered = nextMessages(
      1,
      (h) => traced.consume('later', h),
      (message) => {
        held = message;
      },
    );
    traced.send({ queue: 'later', body: '', headers: {} });
    await delivered;
    expect(traced.consumer.waitingForSettle).toBe(1);
    expect(byName(tracing.spans(), 'process later')).toHaveLength(0);
    traced.ack(held as MemoryMessage);
    expect(traced.consumer.waitingForSettle).toBe(0);
    expect(byName(tracing.spans(), 'process later')).toHaveLength(1);
  });

  it('waits for an async handler that acks early', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    let finish: () => void = () => undefined;
    const delivered = nextMessages(
      1,
      (h) => traced.consume('slow', h),
      async (message) => {
        traced.ack(message);
        await new Promise<void>((resolve) => (finish = resolve));
        trace.getTracer('job').startSpan('after ack').end();
      },
    );
    traced.send({ queue: 'slow', body: '', headers: {} });
    await delivered;
    expect(byName(tracing.spans(), 'process slow')).toHaveLength(0);
    finish();
    const spans = await tracing.waitForSpans((s) => byName(s, 'process slow').length === 1);
    expect(one(spans, 'after ack').parentSpanContext?.spanId).toBe(
      one(spans, 'process slow').spanContext().spanId,
    );
  });

  it('a handler that throws marks the span as error, rethrows, and the nack redelivers', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    const failure = new TypeError('card declined');
    const thrown: unknown[] = [];
    const delivered = nextMessages(
      2,
      (h) => traced.consume('pay', h),
      (message) => {
        if (message.attempt === 1) {
          traced.nack(message);
          try {
            throw failure;
          } catch (error) {
            thrown.push(error);
            throw error;
          }
        }
        traced.ack(message);
      },
    );
    traced.send({ queue: 'pay', body: '', headers: {} });
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process pay').length === 2);
    const [first, second] = byName(spans, 'process pay') as [ReadableSpan, ReadableSpan];
    expect(thrown).toEqual([failure]);
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(first.attributes['error.type']).toBe('TypeError');
    expect(first.events.map((e) => e.name)).toEqual(['nack', 'exception']);
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    const send = one(spans, 'send pay').spanContext().spanId;
    expect(first.parentSpanContext?.spanId).toBe(send);
    expect(second.parentSpanContext?.spanId).toBe(send);
  });

  it('a message never settled gets its span ended by the timeout, without holding the message', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue, { settleTimeoutMs: 50 });
    const delivered = nextMessages(
      1,
      (h) => traced.consume('lost', h),
      () => undefined,
    );
    traced.send({ queue: 'lost', body: '', headers: {} });
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process lost').length === 1);
    expect(one(spans, 'process lost').attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
    expect(traced.consumer.waitingForSettle).toBe(0);
  });

  it('concurrent async handlers each keep their own context', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    const mismatches: string[] = [];
    const count = 200;
    const delivered = nextMessages(
      count,
      (h) => traced.consume('many', h),
      async (message) => {
        const own = trace.getActiveSpan()?.spanContext().spanId;
        await new Promise((resolve) => setImmediate(resolve, Number(message.id) % 7));
        await Promise.resolve();
        if (trace.getActiveSpan()?.spanContext().spanId !== own) mismatches.push(message.id);
        trace.getTracer('job').startSpan(`work ${message.body}`).end();
        traced.ack(message);
      },
    );
    for (let i = 0; i < count; i++) {
      traced.send({ queue: 'many', body: String(i), headers: {} });
    }
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process many').length === count);
    expect(mismatches).toEqual([]);
    const sends = new Map(byName(spans, 'send many').map((s) => [s.spanContext().spanId, s]));
    const processById = new Map(
      byName(spans, 'process many').map((s) => [s.spanContext().spanId, s]),
    );
    for (let i = 0; i < count; i++) {
      const work = one(spans, `work ${i}`);
      const process = processById.get(work.parentSpanContext?.spanId ?? '');
      expect(process).toBeDefined();
      const send = sends.get(process?.parentSpanContext?.spanId ?? '');
      expect(send?.attributes['messaging.destination.name']).toBe('many');
    }
    expect(new Set([...processById.values()].map((p) => p.parentSpanContext?.spanId)).size).toBe(
      count,
    );
  });
});

describe('the settle timeout never cuts a handler, and nothing late is lost', () => {
  it('a handler still running after the timeout keeps its span, and its later error is recorded', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue, { settleTimeoutMs: 20 });
    let release: () => void = () => undefined;
    const failure = new RangeError('late failure');
    const handled = nextMessages(
      2,
      (h) => traced.consume('long', h),
      async (message) => {
        if (message.body !== 'long') return; // returns at once and never acks
        await new Promise<void>((resolve) => (release = resolve));
        traced.ack(message);
        throw failure;
      },
    );
    traced.send({ queue: 'long', body: 'long', headers: {} });
    traced.send({ queue: 'long', body: 'short', headers: {} });
    await handled;
    // The clock: the short message's wait, begun after its handler ended, timed out.
    await tracing.waitForSpans((s) =>
      byName(s, 'process long').some((p) => p.attributes[ATTR_PROCESS_TIMED_OUT] === true),
    );
    expect(byName(tracing.spans(), 'process long')).toHaveLength(1);
    release();
    const spans = await tracing.waitForSpans((s) => byName(s, 'process long').length === 2);
    const long = byName(spans, 'process long').find(
      (p) => p.attributes[ATTR_PROCESS_TIMED_OUT] === undefined,
    );
    expect(long?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'late failure' });
    expect(long?.attributes['error.type']).toBe('RangeError');
    expect(diagWarnings.errors).toEqual([
      'tracehop: a memory message handler failed: RangeError: late failure',
    ]);
  });

  it('a settle after the timeout is recorded as a late settle span under the process span', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue, { settleTimeoutMs: 20 });
    const delivered = nextMessages(
      1,
      (h) => traced.consume('tardy', h),
      () => undefined,
    );
    traced.send({ queue: 'tardy', body: '', headers: {} });
    const [message] = await delivered;
    const process = one(
      await tracing.waitForSpans((s) => byName(s, 'process tardy').length >= 1),
      'process tardy',
    );
    expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
    traced.ack(message as MemoryMessage);
    const late = one(tracing.spans(), 'ack tardy');
    expect(late.kind).toBe(SpanKind.CLIENT);
    expect(late.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(late.attributes).toMatchObject({
      'messaging.operation.type': 'settle',
      'messaging.operation.name': 'ack',
      [ATTR_SETTLE_LATE]: true,
    });
  });

  it('an async rejection never becomes an unhandled rejection: it goes to diag.error', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const queue = new MemoryQueue();
      const traced = traceMemoryQueue(queue);
      const handled = nextMessages(
        1,
        (h) => traced.consume('rejects', h),
        async (message) => {
          traced.ack(message);
          await Promise.resolve();
          throw new Error('rejected');
        },
      );
      traced.send({ queue: 'rejects', body: '', headers: {} });
      await handled;
      await tracing.waitForSpans((s) => byName(s, 'process rejects').length === 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(diagWarnings.errors).toEqual([
        'tracehop: a memory message handler failed: Error: rejected',
      ]);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});

describe('bad input never breaks messaging', () => {
  it('a malformed traceparent is processed on a new trace and reported once', async () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    const delivered = nextMessages(
      2,
      (h) => traced.consume('bad', h),
      (m) => traced.ack(m),
    );
    queue.send({
      queue: 'bad',
      body: '',
      headers: { traceparent: { evil: true } as unknown as string },
    });
    queue.send({
      queue: 'bad',
      body: '',
      headers: { traceparent: { evil: 1 } as unknown as string },
    });
    await delivered;
    const spans = await tracing.waitForSpans((s) => byName(s, 'process bad').length === 2);
    for (const span of byName(spans, 'process bad')) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
    }
    expect(warnings.filter((w) => w.includes("'traceparent'"))).toHaveLength(1);
  });

  it('over the header limit, baggage goes first and the send still happens', () => {
    const queue = new MemoryQueue();
    const traced = traceMemoryQueue(queue);
    const sent: MemoryMessage[] = [];
    queue.consume('full', (m) => void sent.push(m));
    const headers = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`h${i}`, 'x']));
    const ctx = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const id = context.with(ctx, () => traced.send({ queue: 'full', body: '', headers }));
    expect(id).toBeTypeOf('string');
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(Object.keys(sent[0]?.headers ?? {}).sort()).toEqual(
          [...Object.keys(headers), 'traceparent'].sort(),
        );
        expect(headers).not.toHaveProperty('traceparent');
        expect(warnings).toEqual([
          'tracehop: memory message over its attribute limits: dropped baggage',
        ]);
        resolve();
      }),
    );
  });
});
