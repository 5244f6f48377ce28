/**
 * One variant of the SQS benchmark, in a process of its own (the official instrumentation
 * patches globally):
 *
 *   node --expose-gc --import tsx bench/sqs-worker.ts <variant> <messages> <endpoint>
 *
 * Sends N messages with SendMessageBatch (4 batches in flight), then receives them with 4
 * polling loops (10 per ReceiveMessage), runs the handler on each message and deletes each
 * batch with DeleteMessageBatch. Prints one JSON line: msgs/s over the whole
 * send + receive + delete, client CPU µs per message, heap after a forced GC, spans per message.
 *
 * - bare: the raw client;
 * - bare+headers: the raw client, every message carrying the `traceparent` attribute tracehop
 *   would add and every receive asking for the W3C attributes: the floor of propagation;
 * - tracehop: instrumentSqsClient + traceSqsBatchHandler;
 * - official: @opentelemetry/instrumentation-aws-sdk;
 * - tracehop-client: instrumentSqsClient with `createSpans: false` and no handler decorator —
 *   a span per SQS call with the receive span's links, the telemetry `official` records — to
 *   tell the price of that from the price of tracehop's per-message create and process spans;
 * - sdk-floor: what `tracehop` records, written inline with the OpenTelemetry API (sqs-floor.ts).
 *
 * The traced variants run the real SDK (sampler of `BENCH_SAMPLER`, BatchSpanProcessor,
 * discarding exporter). Environment: see worker-kit.ts.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type {
  Message,
  ReceiveMessageCommandInput,
  SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { SqsFloor } from './sqs-floor.js';
import { handlerWork, Measurement, printRow, startSdk, workerArgs } from './worker-kit.js';

type ClientSqs = typeof import('@aws-sdk/client-sqs');
type Instrumentation = typeof import('@opentelemetry/instrumentation');
type AwsSdkInstrumentation = typeof import('@opentelemetry/instrumentation-aws-sdk');

const VARIANTS: readonly string[] = [
  'bare',
  'bare+headers',
  'tracehop',
  'official',
  'tracehop-client',
  'sdk-floor',
];
const { variant, messages: total, address: endpoint } = workerArgs('sqs-worker.ts', VARIANTS);
const CONCURRENCY = 4;
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const require = createRequire(import.meta.url);
const sdk = variant === 'bare' || variant === 'bare+headers' ? undefined : startSdk();
if (variant === 'official' && sdk !== undefined) {
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as Instrumentation;
  const { AwsInstrumentation } =
    require('@opentelemetry/instrumentation-aws-sdk') as AwsSdkInstrumentation;
  registerInstrumentations({
    instrumentations: [new AwsInstrumentation()],
    tracerProvider: sdk.provider,
  });
}
// Every variant loads the client the same way, after the instrumentation (if any).
const sqsSdk = require('@aws-sdk/client-sqs') as ClientSqs;
const sqs = new sqsSdk.SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

/** The application's handler of one message: its work. */
function handleOne(message: Message): void {
  if (message.Body === undefined) throw new Error('message without a body');
  handlerWork();
}

let handle: (messages: Message[]) => Promise<unknown> = (messages) => {
  for (const message of messages) handleOne(message);
  return Promise.resolve(messages);
};
if (variant === 'tracehop') {
  const { instrumentSqsClient, traceSqsBatchHandler } = await import('../adapters/sqs/index.js');
  instrumentSqsClient(sqs);
  handle = traceSqsBatchHandler(handleOne);
} else if (variant === 'tracehop-client') {
  const { instrumentSqsClient } = await import('../adapters/sqs/index.js');
  instrumentSqsClient(sqs, { createSpans: false });
}
const floor = variant === 'sdk-floor' ? new SqsFloor(sqs, sqsSdk) : undefined;

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
      const batch = { QueueUrl: queueUrl, Entries: entries(from, size) };
      const { Failed = [] } =
        floor === undefined
          ? await sqs.send(new sqsSdk.SendMessageBatchCommand(batch))
          : await floor.sendBatch(batch);
      if (Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
}

async function consumeAll(queueUrl: string, count: number): Promise<void> {
  let received = 0;
  const request: ReceiveMessageCommandInput = {
    QueueUrl: queueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 0,
    ...(variant === 'bare+headers'
      ? {
          MessageAttributeNames: ['traceparent', 'tracestate', 'baggage'],
          MessageSystemAttributeNames: ['AWSTraceHeader', 'ApproximateReceiveCount'],
        }
      : {}),
  };
  const receiver = async () => {
    while (received < count) {
      if (floor !== undefined) {
        // Read `received` only once the call is back: four loops add to it.
        const count = await floor.receiveHandleDelete(queueUrl, handleOne);
        received += count;
        continue;
      }
      const { Messages = [] } = await sqs.send(new sqsSdk.ReceiveMessageCommand(request));
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

/** One run on a queue of its own; resolves with the queue's name. */
async function run(count: number, measurement?: Measurement): Promise<string> {
  const queueName = `bench-${variant.replace('+', '-')}-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await sqs.send(new sqsSdk.CreateQueueCommand({ QueueName: queueName }));
  if (QueueUrl === undefined) throw new Error('no queue URL');
  try {
    await measurement?.start();
    await sendAll(QueueUrl, count);
    await consumeAll(QueueUrl, count);
    measurement?.stop();
  } finally {
    await sqs.send(new sqsSdk.DeleteQueueCommand({ QueueUrl }));
  }
  return queueName;
}

await run(Math.min(200, total)); // warm up connections and the JIT
const measurement = new Measurement(variant, total, sdk);
const queueName = await run(total, measurement);
const row = await measurement.row();
measurement.dumpSpans({ [queueName]: '<queue>' });
sqs.destroy();
await sdk?.provider.shutdown();
printRow(row);
