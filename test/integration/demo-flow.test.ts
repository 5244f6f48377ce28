/**
 * The demo's flow (examples/demo-flow.ts, what `npm run demo` prints) on the run's brokers:
 * API → SQS → worker → RabbitMQ → worker → Pub/Sub CloudEvent → worker is one trace, and the
 * nightly job's runs are root traces of their own.
 *
 * What the demo does with the cron job, and so what this pins: `scheduledJob` runs outside any
 * request, so a run has no active span to link to (`linkActive` finds none) and is NOT linked to
 * the API's trace; each run is a new root, and every run after the first links to the run
 * before it (`linkPrevious`) — the README's "linked to the previous run".
 */
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, expect, inject, it } from 'vitest';
import { runDemo } from '../../examples/demo-flow.js';
import { setupTestTracing } from '../../src/testing/index.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

it('carries one order through three brokers on one trace, and runs the cron job on new roots', async () => {
  const lines: { message: string; trace_id?: string }[] = [];
  const demo = await runDemo(
    {
      sqsEndpoint: inject('sqsEndpoint'),
      rabbitmqUrl: inject('rabbitmqUrl'),
      pubsubEmulatorHost: inject('pubsubEmulatorHost'),
    },
    { log: (line) => lines.push(JSON.parse(line) as { message: string; trace_id?: string }) },
  );
  await demo.close();

  // runDemo resolves once every span has ended.
  expect(tracing.openSpans()).toEqual([]);
  const spans = tracing.spans();
  const tree = tracing.tree();
  const named = (name: string): ReadableSpan => {
    const matching = spans.filter((s) => s.name === name);
    expect(matching, `one "${name}" span in\n${tree}`).toHaveLength(1);
    return matching[0] as ReadableSpan;
  };
  const { run } = demo;

  // --- one trace across the three brokers ---------------------------------------------
  const api = named('POST /orders');
  expect(api.kind).toBe(SpanKind.SERVER);
  expect(api.parentSpanContext).toBeUndefined();
  const traceId = api.spanContext().traceId;
  const chain = [
    'POST /orders',
    `send orders-${run}`,
    `process orders-${run}`,
    `send shipments-${run}`,
    `process shipments-${run}`,
    `create order-events-${run}`,
    `subscribe notifications-${run}`,
    'send email',
  ].map(named);
  for (const [index, span] of chain.entries()) {
    expect(span.spanContext().traceId, `${span.name} in the API's trace\n${tree}`).toBe(traceId);
    const parent = chain[index - 1];
    if (parent !== undefined) {
      expect(span.parentSpanContext?.spanId, `${span.name} is a child of ${parent.name}`).toBe(
        parent.spanContext().spanId,
      );
    }
  }
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
  expect(new Set(inTrace.map((s) => s.attributes['messaging.system.name']))).toEqual(
    new Set([undefined, 'aws.sqs', 'rabbitmq', 'gcp.pubsub']),
  );
  expect(inTrace.map((s) => s.name).sort()).toEqual(
    [
      'POST /orders',
      `send orders-${run}`,
      `process orders-${run}`,
      'charge card',
      `send shipments-${run}`,
      `process shipments-${run}`,
      'book courier',
      'CloudEvents Create com.example.order.shipped',
      `create order-events-${run}`,
      `subscribe notifications-${run}`,
      'send email',
    ].sort(),
  );
  // The worker's span links to the CloudEvent's creation as well as to the hop that carried it.
  const subscribe = named(`subscribe notifications-${run}`);
  expect(subscribe.links.map((l) => l.context.spanId).sort()).toEqual(
    [
      named(`create order-events-${run}`).spanContext().spanId,
      named('CloudEvents Create com.example.order.shipped').spanContext().spanId,
    ].sort(),
  );
  // Every log line of the order carries the API's trace id.
  const orderLines = lines.filter((l) => !l.message.startsWith('cron'));
  expect(orderLines.map((l) => l.message)).toEqual([
    'api: order accepted',
    'billing: charging order-42',
    'shipping: booking a courier for order-42',
    'notifications: com.example.order.shipped for order-42',
  ]);
  expect(new Set(orderLines.map((l) => l.trace_id))).toEqual(new Set([traceId]));

  // --- the cron job: two runs, each a new root, the second linked to the first --------
  const runs = spans.filter((s) => s.name === 'nightly-report');
  expect(runs, tree).toHaveLength(2);
  const [first, second] = runs as [ReadableSpan, ReadableSpan];
  for (const job of runs) {
    expect(job.parentSpanContext, 'a run is a root span').toBeUndefined();
    expect(job.spanContext().traceId, 'a run is not in the API trace').not.toBe(traceId);
    expect(
      job.links.filter((l) => l.context.traceId === traceId),
      'a run outside any request has no link to the API trace',
    ).toEqual([]);
  }
  expect(first.spanContext().traceId).not.toBe(second.spanContext().traceId);
  expect(first.links).toEqual([]);
  expect(second.links.map((l) => l.context.spanId)).toEqual([first.spanContext().spanId]);
  const cronLines = lines.filter((l) => l.message.startsWith('cron'));
  expect(cronLines.map((l) => l.trace_id)).toEqual(runs.map((s) => s.spanContext().traceId));
});
