/**
 * One variant of the RabbitMQ benchmark, in a fresh process (the official instrumentation
 * patches amqplib for the whole process):
 *
 *   node --expose-gc --import tsx bench/amqp-worker.ts <variant> <messages> <amqp url>
 *
 * Publishes `messages` messages on one channel and consumes and acks them on another
 * (prefetch 100), after a short warm-up, and prints one JSON line: a {@link BenchRow}.
 * Variants: `bare` (amqplib alone), `bare+headers` (amqplib carrying the trace header
 * tracehop would add: the floor of any propagation), `tracehop` (traceChannel on both
 * channels), `official` (@opentelemetry/instrumentation-amqplib). The last two run the real
 * SDK: every span sampled, batch span processor, an exporter that discards.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import type * as Amqplib from 'amqplib';
import { traceChannel } from '../adapters/amqp/index.js';
import { benchProvider } from './sdk.js';
import type { BenchRow } from './types.js';

type Variant = 'bare' | 'bare+headers' | 'tracehop' | 'official';
const VARIANTS: readonly string[] = ['bare', 'bare+headers', 'tracehop', 'official'];

const [variantArg, messagesArg, url] = process.argv.slice(2);
if (variantArg === undefined || !VARIANTS.includes(variantArg) || url === undefined) {
  throw new Error(`usage: amqp-worker.ts ${VARIANTS.join('|')} <messages> <amqp url>`);
}
const variant = variantArg as Variant;
const messages = Number(messagesArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

// What tracehop's W3C propagator writes for a sampled span: one 55-character header.
const TRACE_HEADERS = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

const sdk = variant === 'tracehop' || variant === 'official' ? benchProvider() : undefined;
if (sdk !== undefined) {
  trace.setGlobalTracerProvider(sdk.provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
}
if (variant === 'official') {
  // Before amqplib is required, as the instrumentation needs.
  new AmqplibInstrumentation().setTracerProvider(sdk?.provider ?? trace.getTracerProvider());
}
const amqplib = createRequire(import.meta.url)('amqplib') as typeof Amqplib;

const connection = await amqplib.connect(url);
let producer: Amqplib.Channel = await connection.createChannel();
let consumer: Amqplib.Channel = await connection.createChannel();
if (variant === 'tracehop') {
  producer = traceChannel(producer);
  consumer = traceChannel(consumer);
}
const queue = `tracehop-bench-${variant}-${process.pid}`;
await consumer.assertQueue(queue, { exclusive: true, autoDelete: true });
await consumer.prefetch(100);

let received = 0;
let target = 0;
let finished: () => void = () => undefined;
await consumer.consume(queue, (message) => {
  if (message === null) return;
  consumer.ack(message);
  if (++received === target) finished();
});

const body = Buffer.from('{"orderId":12345,"action":"charge"}');

/** Publishes `count` messages, respecting flow control, and resolves when all were acked. */
async function run(count: number): Promise<void> {
  received = 0;
  target = count;
  const done = new Promise<void>((resolve) => (finished = resolve));
  for (let i = 0; i < count; i++) {
    const options = variant === 'bare+headers' ? { headers: { ...TRACE_HEADERS } } : undefined;
    if (!producer.sendToQueue(queue, body, options)) await once(producer, 'drain');
  }
  await done;
}

await run(Math.min(2_000, Math.max(100, Math.floor(messages / 10))));
gc();
const cpuBefore = process.cpuUsage();
const began = performance.now();
await run(messages);
const seconds = (performance.now() - began) / 1e3;
const cpu = process.cpuUsage(cpuBefore);
await sdk?.provider.forceFlush();
gc();
const row: BenchRow = {
  variant,
  msgsPerSec: messages / seconds,
  cpuUsPerMsg: (cpu.user + cpu.system) / messages,
  heapMB: process.memoryUsage().heapUsed / 2 ** 20,
};
await connection.close();
await sdk?.provider.shutdown();
process.stdout.write(`${JSON.stringify(row)}\n`);
