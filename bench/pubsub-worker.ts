/**
 * One Pub/Sub benchmark run in a fresh process (the client's built-in tracing is a
 * process-wide switch): after a short warm-up, publish N messages, receive and ack them on the
 * emulator, and print one JSON `BenchRow` line.
 *
 *   node --expose-gc --import tsx bench/pubsub-worker.ts <variant> <messages> <emulator host>
 *
 * Variants: `bare` (the raw client), `bare+headers` (the raw client carrying the same
 * `traceparent` attribute tracehop adds: the floor of any propagation), `tracehop` (traceTopic +
 * tracePubSubHandler), `official` (the client's built-in tracing, `enableOpenTelemetryTracing:
 * true`), `sdk-floor` (what `tracehop` records, written inline with the OpenTelemetry API:
 * pubsub-floor.ts). The traced ones run the real SDK (sampler of `BENCH_SAMPLER`, batch span
 * processor, discarding exporter). Environment: see worker-kit.ts.
 */
import { randomUUID } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { tracePubSubHandler, traceTopic } from '../adapters/pubsub/index.js';
import { PubSubFloor } from './pubsub-floor.js';
import { handlerWork, Measurement, printRow, startSdk, workerArgs } from './worker-kit.js';

const VARIANTS: readonly string[] = ['bare', 'bare+headers', 'tracehop', 'official', 'sdk-floor'];
const { variant, messages, address: host } = workerArgs('pubsub-worker.ts', VARIANTS);
process.env['METADATA_SERVER_DETECTION'] = 'none';

const sdk = variant === 'bare' || variant === 'bare+headers' ? undefined : startSdk();

const pubsub = new PubSub({
  projectId: 'tracehop-bench',
  apiEndpoint: host,
  enableOpenTelemetryTracing: variant === 'official',
});
const topicId = `bench-${randomUUID()}`;
const subscriptionId = `${topicId}-sub`;
const [rawTopic] = await pubsub.createTopic(topicId);
const [subscription] = await rawTopic.createSubscription(subscriptionId);
const topic = variant === 'tracehop' ? traceTopic(rawTopic) : rawTopic;
const floor = variant === 'sdk-floor' ? new PubSubFloor(topicId, subscriptionId) : undefined;
const attributes: Record<string, string> =
  variant === 'bare+headers'
    ? { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    : {};

let received = 0;
let target = 0;
let finished: () => void = () => undefined;
/** The application's handler: its work, then the ack. */
const onMessage = (message: Message): void => {
  handlerWork();
  message.ack();
  if (++received === target) finished();
};
subscription.on('error', (error: unknown) => {
  throw error;
});
subscription.on(
  'message',
  variant === 'tracehop'
    ? tracePubSubHandler(onMessage, { subscription })
    : floor !== undefined
      ? (message: Message) => floor.process(message, onMessage)
      : onMessage,
);

const payload = Buffer.from(JSON.stringify({ order: 42, items: ['a', 'b', 'c'] }));

/** Publishes `count` messages and resolves when all were received and acked. */
async function run(count: number): Promise<void> {
  received = 0;
  target = count;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const published: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    published.push(
      floor === undefined
        ? topic.publishMessage({ data: payload, attributes })
        : floor.publish(topic, payload),
    );
  }
  await Promise.all(published);
  await done;
}

await run(Math.min(500, Math.max(50, Math.floor(messages / 10)))); // the streaming pull and the JIT
const measurement = new Measurement(variant, messages, sdk);
await measurement.start();
await run(messages);
measurement.stop();

await subscription.close();
const row = await measurement.row();
measurement.dumpSpans({ [subscriptionId]: '<subscription>', [topicId]: '<topic>' });
await subscription.delete();
await rawTopic.delete();
await pubsub.close();
await sdk?.provider.shutdown();
printRow(row);
