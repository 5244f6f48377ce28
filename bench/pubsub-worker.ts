/**
 * One Pub/Sub benchmark run in a fresh process (the client's built-in tracing is a
 * process-wide switch): publish N messages, receive and ack them on the emulator, and print one
 * JSON `BenchRow` line.
 *
 *   node --expose-gc --import tsx bench/pubsub-worker.ts <variant> <messages> <emulator host>
 *
 * Variants: `bare` (the raw client), `bare+headers` (the raw client carrying the same
 * `traceparent` attribute tracehop adds: the floor of any propagation), `tracehop` (traceTopic +
 * tracePubSubHandler on the real SDK, every span sampled), `official` (the client's built-in
 * tracing, `enableOpenTelemetryTracing: true`, on the same SDK).
 */
import { randomUUID } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { tracePubSubHandler, traceTopic } from '../adapters/pubsub/index.js';
import { benchProvider } from './sdk.js';
import type { BenchRow } from './types.js';

const [variant = 'bare', messagesArg = '1000', host] = process.argv.slice(2);
if (host === undefined) throw new Error('usage: pubsub-worker.ts <variant> <messages> <host>');
const messages = Number(messagesArg);
const traced = variant === 'tracehop' || variant === 'official';
process.env['METADATA_SERVER_DETECTION'] = 'none';

const sdk = traced ? benchProvider() : undefined;
if (sdk !== undefined) {
  trace.setGlobalTracerProvider(sdk.provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
}

const pubsub = new PubSub({
  projectId: 'tracehop-bench',
  apiEndpoint: host,
  enableOpenTelemetryTracing: variant === 'official',
});
const topicId = `bench-${randomUUID()}`;
const [rawTopic] = await pubsub.createTopic(topicId);
const [subscription] = await rawTopic.createSubscription(`${topicId}-sub`);
const topic = variant === 'tracehop' ? traceTopic(rawTopic) : rawTopic;
const attributes: Record<string, string> =
  variant === 'bare+headers'
    ? { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    : {};

let received = 0;
let finish!: () => void;
const allReceived = new Promise<void>((resolve) => (finish = resolve));
const onMessage = (message: Message): void => {
  message.ack();
  if (++received === messages) finish();
};
subscription.on('error', (error: unknown) => {
  throw error;
});
subscription.on(
  'message',
  variant === 'tracehop' ? tracePubSubHandler(onMessage, { subscription }) : onMessage,
);

const payload = Buffer.from(JSON.stringify({ order: 42, items: ['a', 'b', 'c'] }));
const cpuBefore = process.cpuUsage();
const started = performance.now();
const published: Promise<string>[] = [];
for (let i = 0; i < messages; i++) {
  published.push(topic.publishMessage({ data: payload, attributes }));
}
await Promise.all(published);
await allReceived;
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);

await subscription.close();
await sdk?.provider.forceFlush();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const row: BenchRow = {
  variant,
  msgsPerSec: (messages / elapsedMs) * 1000,
  cpuUsPerMsg: (cpu.user + cpu.system) / messages,
  heapMB: process.memoryUsage().heapUsed / 2 ** 20,
};
await subscription.delete();
await rawTopic.delete();
await pubsub.close();
await sdk?.provider.shutdown();
console.log(JSON.stringify(row));
