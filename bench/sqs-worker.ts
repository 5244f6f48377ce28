/**
 * One variant of the SQS benchmark, in a process of its own (the official instrumentation
 * patches globally):
 *
 *   node --expose-gc --import tsx bench/sqs-worker.ts <variant> <messages> <endpoint>
 *
 * Sends N messages with SendMessageBatch (4 batches in flight), then receives them with 4
 * long-polling loops (10 per ReceiveMessage), runs a no-op handler per message and deletes
 * each batch with DeleteMessageBatch. Prints one JSON line: msgs/s over the whole
 * send + receive + delete, client CPU µs per message, heap after a forced GC.
 *
 * - bare: the raw client;
 * - bare+headers: the raw client, every message carrying the `traceparent` attribute tracehop
 *   would add and every receive asking for what tracehop asks for: the floor of propagation;
 * - tracehop: instrumentSqsClient + traceSqsBatchHandler, the real SDK (BatchSpanProcessor,
 *   discarding exporter, every span sampled);
 * - official: @opentelemetry/instrumentation-aws-sdk on the same SDK setup;
 * - tracehop-client: instrumentSqsClient with `createSpans: false` and no handler decorator —
 *   a span per SQS call with the receive span's links, the telemetry `official` records — to
 *   tell the price of that from the price of tracehop's per-message create and process spans.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type { Message, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { benchProvider } from './sdk.js';
import type { BenchRow } from './types.js';

type ClientSqs = typeof import('@aws-sdk/client-sqs');
type Instrumentation = typeof import('@opentelemetry/instrumentation');
type AwsSdkInstrumentation = typeof import('@opentelemetry/instrumentation-aws-sdk');

const [variant = 'bare', messagesArg = '2000', endpoint = ''] = process.argv.slice(2);
const total = Number(messagesArg);
const CONCURRENCY = 4;
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const require = createRequire(import.meta.url);
const traced = variant !== 'bare' && variant !== 'bare+headers';
const { provider } = benchProvider();
if (traced) {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
}
if (variant === 'official') {
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as Instrumentation;
  const { AwsInstrumentation } =
    require('@opentelemetry/instrumentation-aws-sdk') as AwsSdkInstrumentation;
  registerInstrumentations({
    instrumentations: [new AwsInstrumentation()],
    tracerProvider: provider,
  });
}
// Every variant loads the client the same way, after the instrumentation (if any).
const sqsSdk = require('@aws-sdk/client-sqs') as ClientSqs;
const sqs = new sqsSdk.SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

let handle: (messages: Message[]) => Promise<unknown> = (messages) => {
  for (const message of messages) noop(message);
  return Promise.resolve(messages);
};
if (variant === 'tracehop') {
  const { instrumentSqsClient, traceSqsBatchHandler } = await import('../adapters/sqs/index.js');
  instrumentSqsClient(sqs);
  handle = traceSqsBatchHandler(noop);
} else if (variant === 'tracehop-client') {
  const { instrumentSqsClient } = await import('../adapters/sqs/index.js');
  instrumentSqsClient(sqs, { createSpans: false });
}

function noop(message: Message): void {
  if (message.Body === undefined) throw new Error('message without a body');
}

function entries(from: number, count: number): SendMessageBatchRequestEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    Id: `m${from + i}`,
    MessageBody: `{"orderId":${from + i},"note":"benchmark message"}`,
    ...(variant === 'bare+headers'
      ? { MessageAttributes: { traceparent: { DataType: 'String', StringValue: TRACEPARENT } } }
      : {}),
  }));
}

async function sendAll(queueUrl: string, count: number): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < count) {
      const from = next;
      const size = Math.min(10, count - from);
      next += size;
      const { Failed = [] } = await sqs.send(
        new sqsSdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(from, size) }),
      );
      if (Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
}

async function consumeAll(queueUrl: string, count: number): Promise<void> {
  let received = 0;
  const receiver = async () => {
    while (received < count) {
      const { Messages = [] } = await sqs.send(
        new sqsSdk.ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          ...(variant === 'bare+headers'
            ? {
                MessageAttributeNames: ['traceparent', 'tracestate', 'baggage'],
                MessageSystemAttributeNames: ['AWSTraceHeader', 'ApproximateReceiveCount'],
              }
            : {}),
        }),
      );
      if (Messages.length === 0) continue;
      received += Messages.length;
      await handle(Messages);
      const { Failed = [] } = await sqs.send(
        new sqsSdk.DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, i) => ({
            Id: `d${i}`,
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`delete failed: ${JSON.stringify(Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, receiver));
}

async function run(count: number): Promise<number> {
  const { QueueUrl } = await sqs.send(
    new sqsSdk.CreateQueueCommand({
      QueueName: `bench-${variant.replace('+', '-')}-${randomUUID().slice(0, 8)}`,
    }),
  );
  if (QueueUrl === undefined) throw new Error('no queue URL');
  try {
    const began = performance.now();
    await sendAll(QueueUrl, count);
    await consumeAll(QueueUrl, count);
    return performance.now() - began;
  } finally {
    await sqs.send(new sqsSdk.DeleteQueueCommand({ QueueUrl }));
  }
}

await run(Math.min(200, total)); // warm up connections and the JIT
const cpuBefore = process.cpuUsage();
const elapsedMs = await run(total);
const cpu = process.cpuUsage(cpuBefore);
await provider.forceFlush();
sqs.destroy();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const row: BenchRow = {
  variant,
  msgsPerSec: total / (elapsedMs / 1000),
  cpuUsPerMsg: (cpu.user + cpu.system) / total,
  heapMB: process.memoryUsage().heapUsed / 1024 / 1024,
};
await provider.shutdown();
console.log(JSON.stringify(row));
