/**
 * API → Pub/Sub → worker, as one trace: an HTTP API publishes an order through a traced
 * topic, a worker handles it in a decorated subscription handler, and the handler's own span
 * and log line join the request's trace. Printed as a trace tree.
 *
 *   tsx examples/pubsub/orders.ts          (starts the Pub/Sub emulator, or uses PUBSUB_EMULATOR_HOST)
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { tracePubSubHandler, traceTopic } from '../../adapters/pubsub/index.js';
import { traceLogFields } from '../../src/index.js';
import { setupTestTracing } from '../../src/testing/index.js';
import { startBrokers } from '../../scripts/brokers/index.js';

process.env['METADATA_SERVER_DETECTION'] = 'none';
const tracing = setupTestTracing();
const tracer = trace.getTracer('example');
const log = (message: string) => console.log(JSON.stringify({ message, ...traceLogFields() }));

const brokers = await startBrokers(['pubsub']);
const pubsub = new PubSub({ projectId: 'tracehop-example', apiEndpoint: brokers.pubsub.host });
const [rawTopic] = await pubsub.createTopic(`orders-${Date.now()}`);
const [subscription] = await rawTopic.createSubscription(
  `${rawTopic.name.split('/').pop()}-worker`,
);

// The producer side: wrap the topic once; every publish gets a `create` span and a traceparent.
const orders = traceTopic(rawTopic);

// The worker: decorate the handler; it runs inside the message's `subscribe` span. With
// autoSettle the message is acked when the handler resolves and nacked when it throws.
let resolveHandled!: () => void;
const handled = new Promise<void>((resolve) => (resolveHandled = resolve));
const handleOrder = tracePubSubHandler(
  async (message: Message) => {
    log(`worker: charging ${message.data.toString()}`);
    await tracer.startActiveSpan('charge card', async (span) => {
      await new Promise((r) => setTimeout(r, 5));
      span.end();
    });
    resolveHandled();
  },
  {
    subscription,
    autoSettle: true,
    // A failed order is nacked, then its error comes here: never an unhandled rejection.
    onError: (error) => log(`worker: order failed: ${String(error)}`),
  },
);
// The decorated handler never rejects (errors go to onError): nothing to catch here.
subscription.on('message', (message: Message) => void handleOrder(message));

const server = createServer((req: IncomingMessage, res) => {
  const incoming = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER }, incoming);
  void context.with(trace.setSpan(incoming, span), async () => {
    log('api: order accepted');
    await orders.publishMessage({ data: Buffer.from('order-42'), attributes: { customer: 'c-7' } });
    res.writeHead(202).end();
    span.end();
  });
});

try {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, method: 'POST', path: '/orders' }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  await handled;
  await tracing.waitForSpans((spans) => spans.some((s) => s.name === 'charge card'));
  await tracing.waitForSpans((spans) => spans.some((s) => s.name.startsWith('subscribe ')));
  console.log(`\n${tracing.tree()}`);
} finally {
  server.close();
  await subscription.close();
  await subscription.delete();
  await rawTopic.delete();
  await pubsub.close();
  await tracing.shutdown();
  await brokers.stopAll();
}
