import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { TRACEPARENT } from '../traceparent.js';
import { collector, openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
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
});

/** What raw publishers (other clients, other languages) really put in AMQP headers. */
const cases: [string, Record<string, unknown> | undefined, 'parented' | 'new trace'][] = [
  ['valid string', { traceparent: TRACEPARENT }, 'parented'],
  ['valid bytes (AMQP byte array)', { traceparent: Buffer.from(TRACEPARENT) }, 'parented'],
  ['malformed', { traceparent: '00-not-a-trace-01' }, 'new trace'],
  ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }, 'new trace'],
  ['uppercase hex', { traceparent: TRACEPARENT.toUpperCase() }, 'new trace'],
  ['a number', { traceparent: 42 }, 'new trace'],
  ['a table', { traceparent: { nested: 'x' } }, 'new trace'],
  ['far too long', { traceparent: `${TRACEPARENT}${'x'.repeat(20_000)}` }, 'new trace'],
  ['no headers', undefined, 'new trace'],
  ['garbage baggage and tracestate only', { baggage: '%%%', tracestate: '=,=' }, 'new trace'],
];

it('every message is delivered whatever its trace headers hold; bad ones start a new trace', async () => {
  const raw = await connection.createChannel(); // an untraced publisher
  const consumer = traceChannel(await connection.createChannel());
  const queue = uniqueName('headers');
  await raw.assertQueue(queue, { exclusive: true });
  const delivered = collector<ConsumeMessage>(cases.length);
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    consumer.ack(message);
    delivered.add(message);
  });
  for (const [name, headers] of cases) {
    raw.sendToQueue(
      queue,
      Buffer.from(name),
      headers === undefined ? { messageId: name } : { headers, messageId: name },
    );
  }
  const messages = await delivered.all;
  expect(messages.map((m) => m.content.toString())).toEqual(cases.map(([name]) => name));

  const spans = await tracing.waitForSpans(
    (s) => s.filter((x) => x.name === `process ${queue}`).length === cases.length,
  );
  for (const [name, , expected] of cases) {
    const process = spans.find((s) => s.attributes['messaging.message.id'] === name);
    expect(process, name).toBeDefined();
    if (expected === 'parented') {
      expect(process?.spanContext().traceId, name).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(process?.parentSpanContext?.spanId, name).toBe('b7ad6b7169203331');
      expect(
        process?.links.map((l) => l.context.spanId),
        name,
      ).toEqual(['b7ad6b7169203331']);
    } else {
      expect(process?.parentSpanContext, name).toBeUndefined();
      expect(process?.links, name).toEqual([]);
    }
  }
  await raw.close();
  await consumer.close();
});
