/**
 * Trace attributes in any case on the Pub/Sub emulator: a plain client (no tracehop, the
 * client's built-in tracing off) publishes `TraceParent`, `TraceState`, `Baggage` (or all
 * caps, or a mixed-case `TraceParent` beside the client's `googclient_traceparent`), and
 * tracePubSubHandler continues the trace named by the plain W3C attributes, keeps its
 * tracestate and gives the handler its baggage.
 */
import type { Message } from '@google-cloud/pubsub';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { tracePubSubHandler } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collect, createFixture } from './kit.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACESTATE = 'vendor=v1,other=o2';
const BAGGAGE = 'tenant=acme,plan=gold';
const traceparent = (spanId: string) => `00-${TRACE_ID}-${spanId}-01`;

/** What the handler saw of its context. */
interface Seen {
  readonly attributes: Record<string, string>;
  readonly activeSpanId: string | undefined;
  readonly childTraceState: string | undefined;
  readonly tenant: string | undefined;
  readonly plan: string | undefined;
}

const cases: { name: string; parentSpanId: string; attributes: Record<string, string> }[] = [
  {
    name: 'mixed case',
    parentSpanId: 'a1a1a1a1a1a1a1a1',
    attributes: {
      TraceParent: traceparent('a1a1a1a1a1a1a1a1'),
      TraceState: TRACESTATE,
      Baggage: BAGGAGE,
    },
  },
  {
    name: 'all caps',
    parentSpanId: 'b2b2b2b2b2b2b2b2',
    attributes: {
      TRACEPARENT: traceparent('b2b2b2b2b2b2b2b2'),
      TRACESTATE: TRACESTATE,
      BAGGAGE: BAGGAGE,
    },
  },
  {
    name: 'a mixed-case W3C pair wins over the client’s googclient_ pair',
    parentSpanId: 'c3c3c3c3c3c3c3c3',
    attributes: {
      googclient_traceparent: traceparent('d4d4d4d4d4d4d4d4'),
      googclient_tracestate: 'google=g1',
      TraceParent: traceparent('c3c3c3c3c3c3c3c3'),
      TraceState: TRACESTATE,
      Baggage: BAGGAGE,
    },
  },
  {
    name: 'exact and mixed case: the exact one wins',
    parentSpanId: 'e5e5e5e5e5e5e5e5',
    attributes: {
      TraceParent: traceparent('f6f6f6f6f6f6f6f6'),
      traceparent: traceparent('e5e5e5e5e5e5e5e5'),
      TRACESTATE: TRACESTATE,
      Baggage: BAGGAGE,
    },
  },
];

it('messages whose attributes are TraceParent, TraceState, Baggage continue their trace, with tracestate and baggage', async () => {
  const f = await createFixture();
  try {
    const seen = new Map<string, Seen>();
    const all = collect(
      f.subscription,
      cases.length,
      tracePubSubHandler(
        (message: Message) => {
          const child = trace.getTracer('test').startSpan('handler work');
          const baggage = propagation.getActiveBaggage();
          seen.set(message.id, {
            attributes: { ...message.attributes },
            activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
            childTraceState: child.spanContext().traceState?.serialize(),
            tenant: baggage?.getEntry('tenant')?.value,
            plan: baggage?.getEntry('plan')?.value,
          });
          child.end();
          message.ack();
        },
        { subscription: f.subscription },
      ),
    );
    // A plain publisher: the untraced client.
    const ids = await Promise.all(
      cases.map(({ name, attributes }) =>
        f.topic.publishMessage({ data: Buffer.from(name), attributes }),
      ),
    );
    await all;
    const spans = await tracing.waitForSpans(
      (s) =>
        s.filter((span) => span.name === `subscribe ${f.subscriptionId}`).length === cases.length,
    );

    cases.forEach(({ name, parentSpanId, attributes }, i) => {
      const id = ids[i] ?? '';
      const found = spans.filter(
        (span) =>
          span.name === `subscribe ${f.subscriptionId}` &&
          span.attributes['messaging.message.id'] === id,
      );
      expect(found, name).toHaveLength(1);
      const process = found[0];
      if (process === undefined) return;
      expect(process.kind, name).toBe(SpanKind.CONSUMER);
      expect(process.spanContext().traceId, name).toBe(TRACE_ID);
      expect(process.parentSpanContext?.spanId, name).toBe(parentSpanId);
      expect(process.parentSpanContext?.isRemote, name).toBe(true);
      expect(process.parentSpanContext?.traceState?.serialize(), name).toBe(TRACESTATE);
      expect(process.spanContext().traceState?.serialize(), name).toBe(TRACESTATE);
      expect(
        process.links.map((link) => link.context.spanId),
        name,
      ).toEqual([parentSpanId]);
      expect(seen.get(id), name).toEqual({
        // the emulator delivered the names as written, and nothing else
        attributes,
        activeSpanId: process.spanContext().spanId,
        childTraceState: TRACESTATE,
        tenant: 'acme',
        plan: 'gold',
      });
    });
  } finally {
    await f.close();
  }
});
