/**
 * Run by memory.test.ts in a child process, for a heap of its own that nothing else fills:
 *
 *   RABBITMQ_URL=amqp://… node --expose-gc --import tsx memory.child.ts
 *
 * Measures `heapUsed` after full garbage collections around two long-lived-channel
 * workloads on the real RabbitMQ, with a tracer provider that exports into nothing (so only
 * tracehop and amqplib can hold memory):
 *
 * - flood: one `traceChannel` consumer (`settleTimeoutMs: 100`, prefetch 0) whose handler
 *   never acks 20 000 messages (then 20 000 more); every `process` span ends by the settle
 *   timeout.
 * - cycles: 2 000 `consume` → `cancel` cycles on one traced channel.
 *
 * Prints one line `RESULT {json}` (a {@link MemoryResult}). Waits on events only: span ends
 * (counted by a span processor), deliveries, `drain`, broker replies. The one timer is a
 * deadline that fails the run.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import process from 'node:process';
import { setImmediate } from 'node:timers/promises';
import { context as contextApi, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { connect, type Channel, type ConsumeMessage } from 'amqplib';
import { channelState } from '../../../adapters/amqp/channel-state.js';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/index.js';

export interface FloodResult {
  warmupMessages: number;
  messages: number;
  settleTimeoutMs: number;
  /** Process spans of the floods (both) that ended by the settle timeout. */
  timedOut: number;
  /** Process spans ended in all (warm-up included). */
  processEnded: number;
  delivered: number;
  /** heapUsed after gc, after the acked warm-up, before the flood. */
  baselineHeap: number;
  /** heapUsed after gc, once every flood span ended by the timeout. */
  afterHeap: number;
  deltaHeap: number;
  /**
   * A second flood of as many messages on the same channel: heapUsed after gc once those
   * timed out too, and its growth over {@link afterHeap}. The first delta includes one-time
   * costs (code compiled for the timeout path, the index's capped late-settle entries);
   * this one is what each further message costs.
   */
  repeatHeap: number;
  repeatDeltaHeap: number;
  /** Deliveries the channel's settle index still holds as in flight afterwards. */
  unsettledAfter: number;
  channelClosed: boolean;
  /** `checkQueue` on the consumer channel afterwards. */
  queueCheck: { messageCount: number; consumerCount: number } | undefined;
  elapsedMs: number;
}

export interface CyclesResult {
  cycles: number;
  warmupCycles: number;
  /** heapUsed after gc at the end of the warm-up cycle. */
  baselineHeap: number;
  /** heapUsed after gc after the last cycle. */
  afterHeap: number;
  deltaHeap: number;
  channelClosed: boolean;
  elapsedMs: number;
}

export interface MemoryResult {
  node: string;
  flood: FloodResult;
  cycles: CyclesResult;
}

const DEADLINE_MS = 110_000;
const deadline = setTimeout(() => {
  process.stderr.write(`memory child: no result within ${DEADLINE_MS} ms\n`);
  process.exit(3);
}, DEADLINE_MS);
deadline.unref();

const url = process.env['RABBITMQ_URL'];
if (url === undefined || url === '') throw new Error('RABBITMQ_URL is not set');
const collect = globalThis.gc;
if (collect === undefined) throw new Error('run with --expose-gc');

// ------------------------------------------------------------------ tracing that keeps nothing

/** Exports into nothing: the exporter holds no span. */
const discard: SpanExporter = {
  export: (_spans: ReadableSpan[], done: (result: ExportResult) => void) =>
    done({ code: ExportResultCode.SUCCESS }),
  shutdown: () => Promise.resolve(),
};

/** Counts ended `process` spans and wakes waiters; keeps no span. */
class ProcessCounter implements SpanProcessor {
  ended = 0;
  timedOut = 0;
  private readonly waiters = new Set<{ check: () => boolean; resolve: () => void }>();

  onStart(): void {
    // nothing: counted at the end
  }

  onEnd(span: ReadableSpan): void {
    if (span.attributes['messaging.operation.type'] !== 'process') return;
    this.ended++;
    if (span.attributes[ATTR_PROCESS_TIMED_OUT] === true) this.timedOut++;
    this.wake();
  }

  /** Resolves once `check` holds, checked now and whenever something it counts changes. */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ check, resolve }));
  }

  wake(): void {
    for (const waiter of this.waiters) {
      if (!waiter.check()) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const counter = new ProcessCounter();
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(discard), counter],
});
trace.setGlobalTracerProvider(provider);
contextApi.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);

/** heapUsed after two full collections, a turn of the event loop apart. */
async function heapAfterGc(): Promise<number> {
  collect?.();
  await setImmediate();
  collect?.();
  return process.memoryUsage().heapUsed;
}

/** Sends `count` messages, waiting for `drain` whenever amqplib's buffer is full. */
async function publish(
  channel: Channel,
  queue: string,
  count: number,
  type: string,
): Promise<void> {
  const body = Buffer.from('x');
  for (let i = 0; i < count; i++) {
    if (!channel.sendToQueue(queue, body, { type, messageId: `${type}-${i}` })) {
      await once(channel, 'drain');
    }
  }
}

const connection = await connect(url);

// ------------------------------------------------------------------ (a) flood, never acked

async function flood(): Promise<FloodResult> {
  const WARMUP = 500;
  const MESSAGES = 20_000;
  const SETTLE_TIMEOUT_MS = 100;
  const started = performance.now();
  const raw = await connection.createChannel();
  let channelClosed = false;
  raw.once('close', () => (channelClosed = true));
  const consumer = traceChannel(raw, { settleTimeoutMs: SETTLE_TIMEOUT_MS });
  const producer = traceChannel(await connection.createChannel());
  const queue = `tracehop-memory-${randomUUID()}`;
  await consumer.assertQueue(queue, { exclusive: true });
  await consumer.prefetch(0);
  let delivered = 0;
  await consumer.consume(queue, (message: ConsumeMessage | null) => {
    if (message === null) return;
    delivered++;
    // Only the warm-up is acked; the flood is never settled.
    if (message.properties.type === 'warmup') consumer.ack(message);
  });

  await publish(producer, queue, WARMUP, 'warmup');
  await counter.until(() => counter.ended >= WARMUP);
  const baselineHeap = await heapAfterGc();

  const endedBefore = counter.ended;
  await publish(producer, queue, MESSAGES, 'flood');
  await counter.until(() => counter.timedOut >= MESSAGES);
  const afterHeap = await heapAfterGc();
  await publish(producer, queue, MESSAGES, 'flood');
  await counter.until(() => counter.timedOut >= 2 * MESSAGES);
  const repeatHeap = await heapAfterGc();

  const unsettledAfter = channelState(raw).unsettledCount;
  let queueCheck: FloodResult['queueCheck'];
  if (!channelClosed) {
    const { messageCount, consumerCount } = await consumer.checkQueue(queue);
    queueCheck = { messageCount, consumerCount };
  }
  const result: FloodResult = {
    warmupMessages: WARMUP,
    messages: MESSAGES,
    settleTimeoutMs: SETTLE_TIMEOUT_MS,
    timedOut: counter.timedOut,
    processEnded: counter.ended,
    delivered,
    baselineHeap,
    afterHeap,
    deltaHeap: afterHeap - baselineHeap,
    repeatHeap,
    repeatDeltaHeap: repeatHeap - afterHeap,
    unsettledAfter,
    channelClosed,
    queueCheck,
    elapsedMs: Math.round(performance.now() - started),
  };
  if (counter.ended - endedBefore !== 2 * MESSAGES) {
    throw new Error(`expected ${2 * MESSAGES} flood spans, ${counter.ended - endedBefore} ended`);
  }
  await producer.close();
  await consumer.close();
  return result;
}

// ------------------------------------------------------------------ (b) consume/cancel cycles

async function cycles(): Promise<CyclesResult> {
  const CYCLES = 2_000;
  const WARMUP = 200;
  const started = performance.now();
  const raw = await connection.createChannel();
  let channelClosed = false;
  raw.once('close', () => (channelClosed = true));
  const channel = traceChannel(raw);
  const queue = `tracehop-memory-cycles-${randomUUID()}`;
  await channel.assertQueue(queue, { exclusive: true });
  let baselineHeap = 0;
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const { consumerTag } = await channel.consume(queue, (message: ConsumeMessage | null) => {
      if (message !== null) channel.ack(message);
    });
    await channel.cancel(consumerTag);
    if (cycle === WARMUP) baselineHeap = await heapAfterGc();
  }
  const afterHeap = await heapAfterGc();
  const result: CyclesResult = {
    cycles: CYCLES,
    warmupCycles: WARMUP,
    baselineHeap,
    afterHeap,
    deltaHeap: afterHeap - baselineHeap,
    channelClosed,
    elapsedMs: Math.round(performance.now() - started),
  };
  await channel.close();
  return result;
}

let result: MemoryResult;
try {
  result = { node: process.version, flood: await flood(), cycles: await cycles() };
} finally {
  await connection.close();
  await provider.shutdown();
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
