/**
 * Trace headers in any case on the real broker: a plain amqplib publisher (a hand-rolled
 * producer, another framework, HTTP headers copied into a message) writes `TraceParent`,
 * `TraceState`, `Baggage`; tracehop's traced consumer continues that trace, keeps its
 * tracestate and hands the handler its baggage.
 */
import { propagation, trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collector, openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
  tracing.reset();
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const OTHER_SPAN_ID = '2222222222222222';

/** What the handler saw of its context, per message. */
interface Seen {
  readonly id: string;
  readonly headerNames: string[];
  readonly activeSpanId: string | undefined;
  readonly childTraceState: string | undefined;
  readonly tenant: string | undefined;
  readonly plan: string | undefined;
}

it('a message whose headers are TraceParent, TraceState, Baggage continues its trace, with tracestate and baggage', async () => {
  const raw = await connection.createChannel(); // a plain publisher: tracehop is not involved
  const consumer = traceChannel(await connection.createChannel());
  const queue = uniqueName('header-case');
  await raw.assertQueue(queue, { exclusive: true });

  const messages: [string, Record<string, string>][] = [
    [
      'mixed case',
      {
        TraceParent: TRACEPARENT,
        TraceState: 'vendor=v1,other=o2',
        Baggage: 'tenant=acme,plan=gold',
      },
    ],
    [
      'exact and mixed case: the exact lower-case one wins',
      {
        TraceParent: `00-${TRACE_ID}-${OTHER_SPAN_ID}-01`,
        traceparent: TRACEPARENT,
        TRACESTATE: 'vendor=v1,other=o2',
        BAGGAGE: 'tenant=acme,plan=gold',
      },
    ],
  ];

  const seen = collector<Seen>(messages.length);
  await consumer.consume(queue, (message: ConsumeMessage | null) => {
    if (message === null) return;
    const child = tracer.startSpan('handler work');
    const baggage = propagation.getActiveBaggage();
    seen.add({
      id: String(message.properties.messageId),
      headerNames: Object.keys(message.properties.headers ?? {}).sort(),
      activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
      childTraceState: child.spanContext().traceState?.serialize(),
      tenant: baggage?.getEntry('tenant')?.value,
      plan: baggage?.getEntry('plan')?.value,
    });
    child.end();
    consumer.ack(message);
  });
  for (const [id, headers] of messages) {
    raw.sendToQueue(queue, Buffer.from(id), { messageId: id, headers });
  }
  const handled = await seen.all;

  const spans = await tracing.waitForSpans(
    (all) => all.filter((span) => span.name === `process ${queue}`).length === messages.length,
  );
  for (const [id, headers] of messages) {
    const process = spans.find(
      (span) => span.name === `process ${queue}` && span.attributes['messaging.message.id'] === id,
    );
    expect(process, id).toBeDefined();
    if (process === undefined) continue;
    const delivered = handled.find((entry) => entry.id === id);
    expect(process.spanContext().traceId, id).toBe(TRACE_ID);
    expect(process.parentSpanContext?.spanId, id).toBe(SPAN_ID);
    expect(process.parentSpanContext?.isRemote, id).toBe(true);
    expect(process.parentSpanContext?.traceState?.serialize(), id).toBe('vendor=v1,other=o2');
    expect(process.spanContext().traceState?.serialize(), id).toBe('vendor=v1,other=o2');
    expect(
      process.links.map((link) => link.context.spanId),
      id,
    ).toEqual([SPAN_ID]);
    expect(delivered, id).toEqual({
      id,
      // the broker delivered the names as written: tracehop read them in any case
      headerNames: Object.keys(headers).sort(),
      activeSpanId: process.spanContext().spanId,
      childTraceState: 'vendor=v1,other=o2',
      tenant: 'acme',
      plan: 'gold',
    });
  }
  await raw.close();
  await consumer.close();
});
