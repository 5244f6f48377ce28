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
 * channels), `official` (@opentelemetry/instrumentation-amqplib), `sdk-floor` (the spans,
 * attributes, links and events tracehop records, written inline with the OpenTelemetry API:
 * see amqp-floor.ts). The traced ones run the real SDK: the sampler of `BENCH_SAMPLER`,
 * batch span processor, an exporter that discards. Environment: see worker-kit.ts.
 *
 * With `BENCH_HEAP=1` the worker measures heap growth instead: it handles `messages / 10`
 * messages, reads the heap after a forced GC, handles the rest, reads it again, and prints a
 * {@link HeapRow}.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import type * as Amqplib from 'amqplib';
import { traceChannel } from '../adapters/amqp/index.js';
import { AmqpFloor } from './amqp-floor.js';
import type { BenchRow, HeapRow } from './types.js';
import { forceGc, handlerWork, Measurement, printRow, startSdk, workerArgs } from './worker-kit.js';

const VARIANTS: readonly string[] = ['bare', 'bare+headers', 'tracehop', 'official', 'sdk-floor'];
const { variant, messages, address: url } = workerArgs('amqp-worker.ts', VARIANTS);
const heapMode = process.env['BENCH_HEAP'] === '1';

// What tracehop's W3C propagator writes for a sampled span: one 55-character header.
const TRACE_HEADERS = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

const sdk = variant === 'bare' || variant === 'bare+headers' ? undefined : startSdk();
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
const floor = variant === 'sdk-floor' ? new AmqpFloor(queue, consumer) : undefined;

let received = 0;
let target = 0;
let finished: () => void = () => undefined;

/** The application's handler: its work, then the ack. */
function handle(message: Amqplib.ConsumeMessage): void {
  handlerWork();
  consumer.ack(message);
}

await consumer.consume(queue, (message) => {
  if (message === null) return;
  if (floor === undefined) handle(message);
  else floor.process(message, handle);
  if (++received === target) finished();
});

const body = Buffer.from('{"orderId":12345,"action":"charge"}');

/** Publishes one message as the variant does; `false` when the channel asks to wait for `drain`. */
function publish(): boolean {
  if (floor !== undefined) return floor.send(producer, body);
  const options = variant === 'bare+headers' ? { headers: { ...TRACE_HEADERS } } : undefined;
  return producer.sendToQueue(queue, body, options);
}

/** Publishes `count` messages, respecting flow control, and resolves when all were acked. */
async function run(count: number): Promise<void> {
  received = 0;
  target = count;
  const done = new Promise<void>((resolve) => (finished = resolve));
  for (let i = 0; i < count; i++) {
    if (!publish()) await once(producer, 'drain');
  }
  await done;
}

/**
 * Heap used after the spans are flushed and forced GCs, in MiB: one GC, 200 ms for the I/O
 * and finalizers still under way to finish (without it, a reading soon after a burst of
 * messages sometimes holds a few MiB more), and another.
 */
async function heapNow(): Promise<number> {
  await sdk?.provider.forceFlush();
  forceGc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  forceGc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

await run(Math.min(2_000, Math.max(100, Math.floor(messages / 10))));
let result: BenchRow | HeapRow;
if (heapMode) {
  const first = Math.floor(messages / 10);
  await run(first);
  const firstHeapMB = await heapNow();
  await run(messages - first);
  result = {
    variant,
    sampler: sdk?.sampler ?? 'none',
    firstMessages: first,
    firstHeapMB,
    lastMessages: messages,
    lastHeapMB: await heapNow(),
  };
} else {
  const measurement = new Measurement(variant, messages, sdk);
  await measurement.start();
  await run(messages);
  measurement.stop();
  result = await measurement.row();
  measurement.dumpSpans({ [queue]: '<queue>' });
}
await connection.close();
await sdk?.provider.shutdown();
printRow(result);
