/**
 * A CloudEvent from an API to a worker over Pub/Sub. The event carries its creation context
 * in the Distributed Tracing extension (`traceparent`, set once, kept across hops); the
 * Pub/Sub message carries this hop's context in its own `traceparent` attribute. The worker's
 * span continues the hop and links to the event's creation. Printed as a trace tree.
 *
 *   tsx examples/cloudevents/order-events.ts     (starts the Pub/Sub emulator, or uses PUBSUB_EMULATOR_HOST)
 */
import { PubSub, type Message } from '@google-cloud/pubsub';
import { SpanKind, trace } from '@opentelemetry/api';
import { CloudEvent } from 'cloudevents';
import { toPubSubMessage, tracePubSubCloudEventHandler } from '../../adapters/cloudevents/index.js';
import { traceTopic } from '../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../src/testing/index.js';
import { startBrokers } from '../../scripts/brokers/index.js';

process.env['METADATA_SERVER_DETECTION'] = 'none';
const tracing = setupTestTracing();
const tracer = trace.getTracer('example');

interface OrderCreated {
  orderId: string;
  total: number;
}

const brokers = await startBrokers(['pubsub']);
const pubsub = new PubSub({ projectId: 'tracehop-example', apiEndpoint: brokers.pubsub.host });
const topicId = `order-events-${Date.now()}`;
const [rawTopic] = await pubsub.createTopic(topicId);
const [subscription] = await rawTopic.createSubscription(`${topicId}-billing`);
const events = traceTopic(rawTopic);

const handled = new Promise<void>((resolve) => {
  subscription.on(
    'message',
    tracePubSubCloudEventHandler(
      (event: CloudEvent<OrderCreated>, message: Message) => {
        console.log(
          `billing: ${event.type} ${event.data?.orderId} (created in ${String(event.traceparent)})`,
        );
        message.ack();
        resolve();
      },
      { subscription },
    ),
  );
});

try {
  await tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
    const event = new CloudEvent<OrderCreated>({
      type: 'com.example.order.created',
      source: '/orders',
      subject: 'order-42',
      datacontenttype: 'application/json',
      data: { orderId: 'order-42', total: 99.5 },
    });
    // Binary mode: ce-* attributes and the JSON data. The extension is added here.
    await events.publishMessage(toPubSubMessage(event));
    span.end();
  });
  await handled;
  await tracing.waitForSpans((spans) => spans.some((s) => s.name.startsWith('subscribe ')));
  console.log(`\n${tracing.tree()}`);
} finally {
  await subscription.close();
  await subscription.delete();
  await rawTopic.delete();
  await pubsub.close();
  await tracing.shutdown();
  await brokers.stopAll();
}
