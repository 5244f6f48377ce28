/**
 * The demo: one order crosses three brokers and stays one trace, and a nightly job runs
 * on its own root traces. Brokers are started here (RabbitMQ, an SQS-protocol server,
 * the Pub/Sub emulator), or taken from RABBITMQ_URL, SQS_ENDPOINT, PUBSUB_EMULATOR_HOST.
 *
 *   POST /orders (HTTP API)
 *     → SQS `orders`          → billing worker (charges the card)
 *     → RabbitMQ `shipments`  → shipping worker (books a courier)
 *     → Pub/Sub `order-events`, as a CloudEvent → notification worker (sends an email)
 *
 *   npm run demo
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { PubSub, type Message as PubSubMessage } from '@google-cloud/pubsub';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { connect, type ConsumeMessage } from 'amqplib';
import { CloudEvent } from 'cloudevents';
import { traceChannel } from '../adapters/amqp/index.js';
import { toPubSubMessage, tracePubSubCloudEventHandler } from '../adapters/cloudevents/index.js';
import { traceTopic } from '../adapters/pubsub/index.js';
import { instrumentSqsClient, traceSqsHandler } from '../adapters/sqs/index.js';
import { scheduledJob, traceLogFields } from '../src/index.js';
import { setupTestTracing } from '../src/testing/index.js';
import { startBrokers } from '../scripts/brokers/index.js';

process.env['METADATA_SERVER_DETECTION'] = 'none';
// In a service: the OpenTelemetry SDK and an exporter. Here: spans in memory, printed.
const tracing = setupTestTracing();
const tracer = trace.getTracer('demo');
const log = (message: string) => console.log(JSON.stringify({ message, ...traceLogFields() }));
const work = (name: string) =>
  tracer.startActiveSpan(name, async (span) => {
    await new Promise((resolve) => setTimeout(resolve, 3));
    span.end();
  });

const brokers = await startBrokers();
const run = Date.now().toString(36);
try {
  // --- the clients, wrapped once -------------------------------------------------------
  const sqs = instrumentSqsClient(
    new SQSClient({
      endpoint: brokers.sqs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
    }),
  );
  const { QueueUrl: ordersUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `orders-${run}` }),
  );
  const amqp = await connect(brokers.rabbitmq.url);
  const shipments = traceChannel(await amqp.createChannel());
  const shipmentsQueue = `shipments-${run}`;
  await shipments.assertQueue(shipmentsQueue, { autoDelete: true });
  const pubsub = new PubSub({ projectId: 'tracehop-demo', apiEndpoint: brokers.pubsub.host });
  const [rawTopic] = await pubsub.createTopic(`order-events-${run}`);
  const [subscription] = await rawTopic.createSubscription(`notifications-${run}`);
  const orderEvents = traceTopic(rawTopic);

  // --- the workers ---------------------------------------------------------------------
  const billing = traceSqsHandler(async (message: Message) => {
    const order = JSON.parse(message.Body ?? '{}') as { orderId: string };
    log(`billing: charging ${order.orderId}`);
    await work('charge card');
    shipments.sendToQueue(shipmentsQueue, Buffer.from(JSON.stringify(order)));
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: ordersUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  });
  const pollBilling = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: ordersUrl, WaitTimeSeconds: 5 }),
    );
    for (const message of Messages) await billing(message);
    return Messages.length;
  };

  await shipments.consume(shipmentsQueue, async (message: ConsumeMessage | null) => {
    if (message === null) return;
    const order = JSON.parse(message.content.toString()) as { orderId: string };
    log(`shipping: booking a courier for ${order.orderId}`);
    await work('book courier');
    const event = new CloudEvent({
      type: 'com.example.order.shipped',
      source: '/shipping',
      subject: order.orderId,
      datacontenttype: 'application/json',
      data: order,
    });
    await orderEvents.publishMessage(toPubSubMessage(event));
    shipments.ack(message);
  });

  const notified = new Promise<void>((resolve) => {
    subscription.on(
      'message',
      // The emitter ignores the returned promise; the decorator keeps the span open until
      // it settles and records a rejection, which this handler never produces.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      tracePubSubCloudEventHandler(
        async (event: CloudEvent<{ orderId: string }>, message: PubSubMessage) => {
          log(`notifications: ${event.type} for ${event.data?.orderId ?? '?'}`);
          await work('send email');
          message.ack();
          resolve();
        },
        { subscription },
      ),
    );
  });

  // --- the API -------------------------------------------------------------------------
  const api = createServer((req, res) => {
    const incoming = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER }, incoming);
    void context.with(trace.setSpan(incoming, span), async () => {
      log('api: order accepted');
      await sqs.send(
        new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: '{"orderId":"order-42"}' }),
      );
      res.writeHead(202).end();
      span.end();
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const { port } = api.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, method: 'POST', path: '/orders' }, (res) => {
      res.resume().on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  api.close();
  while ((await pollBilling()) === 0);
  await notified;

  // --- a cron job: each run its own root trace, linked to the previous run ---------------
  const nightly = scheduledJob('nightly-report', async () => {
    log('cron: building the nightly report');
    await work('query orders');
  });
  await nightly();
  await nightly();

  await tracing.waitForSpans((spans) => spans.some((s) => s.name.startsWith('subscribe')));
  console.log(`\n${tracing.tree()}`);
  await subscription.close();
  await shipments.close();
  await amqp.close();
  await pubsub.close();
  sqs.destroy();
} finally {
  await tracing.shutdown();
  await brokers.stopAll();
}
