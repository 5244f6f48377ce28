import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collector, isChildOf, openConnection, uniqueName } from './kit.js';

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

const COUNT = 1000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('1 000 messages, prefetch 50, concurrent async handlers: each process span under its own send span', async () => {
  const producer = traceChannel(await connection.createChannel());
  const consumer = traceChannel(await connection.createChannel());
  const queue = uniqueName('load');
  await consumer.assertQueue(queue, { exclusive: true });
  await consumer.prefetch(50);
  const done = collector<void>(COUNT);
  const mismatches: string[] = [];
  await consumer.consume(queue, async (message) => {
    if (message === null) return;
    const id = String(message.properties.messageId);
    const processSpan = trace.getActiveSpan();
    // Interleave with the other 49 handlers in flight, then check the context survived.
    await pause(Number(id) % 7);
    if (trace.getActiveSpan() !== processSpan) mismatches.push(id);
    await trace.getTracer('job').startActiveSpan(`work ${id}`, async (span) => {
      await pause(Number(id) % 3);
      span.end();
    });
    consumer.ack(message);
    done.add();
  });

  let backlog = Promise.resolve();
  for (let i = 0; i < COUNT; i++) {
    // Each message from its own request: one trace per message.
    const accepted = producer.sendToQueue(queue, Buffer.from(String(i)), { messageId: String(i) });
    if (!accepted) {
      backlog = new Promise((resolve) => producer.once('drain', resolve));
      await backlog;
    }
  }
  await done.all;
  expect(mismatches).toEqual([]);
  const spans = await tracing.waitForSpans(
    (s) => s.filter((x) => x.name === `process ${queue}`).length === COUNT,
  );
  const byId = (name: string) => {
    const map = new Map<string, ReadableSpan>();
    for (const span of spans) {
      if (span.name === name) map.set(String(span.attributes['messaging.message.id']), span);
    }
    return map;
  };
  const sends = byId(`send ${queue}`);
  const processes = byId(`process ${queue}`);
  expect(sends.size).toBe(COUNT);
  expect(processes.size).toBe(COUNT);
  const traces = new Set<string>();
  for (let i = 0; i < COUNT; i++) {
    const id = String(i);
    const send = sends.get(id) as ReadableSpan;
    const process = processes.get(id) as ReadableSpan;
    const work = spans.find((s) => s.name === `work ${id}`) as ReadableSpan;
    expect(isChildOf(process, send), `process ${id} under send ${id}`).toBe(true);
    expect(isChildOf(work, process), `work ${id} under process ${id}`).toBe(true);
    expect(process.events.map((e) => e.name)).toEqual(['ack']);
    traces.add(send.spanContext().traceId);
  }
  expect(traces.size).toBe(COUNT);
  await producer.close();
  await consumer.close();
});
