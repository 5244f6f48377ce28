/**
 * The demo's flow, for examples/demo.ts and for the test that runs it
 * (test/integration/demo-flow.test.ts): one order crosses three brokers and stays one trace, and a
 * nightly job runs twice, each run on its own root trace linked to the run before.
 *
 *   POST /orders (HTTP API)
 *     → SQS `orders`          → billing worker (charges the card)
 *     → RabbitMQ `shipments`  → shipping worker (books a courier)
 *     → Pub/Sub `order-events`, as a CloudEvent → notification worker (sends an email)
 *
 * Spans go to whatever tracer provider is registered globally.
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

/** Where the brokers are. */
export interface DemoBrokers {
  /** e.g. http://127.0.0.1:9324 */
  readonly sqsEndpoint: string;
  /** e.g. amqp://guest:guest@127.0.0.1:5672 */
  readonly rabbitmqUrl: string;
  /** e.g. 127.0.0.1:8085 */
  readonly pubsubEmulatorHost: string;
}

export interface DemoOptions {
  /** Where the log lines go (JSON with the trace fields). Default: stdout. */
  readonly log?: (line: string) => void;
}

export interface Demo {
  /** The run's suffix on every queue, topic and subscription name: `orders-${run}`… */
  readonly run: string;
  /** Closes the clients. */
  close(): Promise<void>;
}

/**
 * Runs the order through the three brokers, waits until the notification worker has handled it,
 * then runs the nightly job twice. Resolves once every span of the flow has ended, with the
 * clients still open: {@link Demo.close} closes them.
 */
export async function runDemo(brokers: DemoBrokers, options: DemoOptions = {}): Promise<Demo> {
  const print = options.log ?? ((line: string) => console.log(line));
  const tracer = trace.getTracer('demo');
  const log = (message: string) => print(JSON.stringify({ message, ...traceLogFields() }));
  const work = (name: string) =>
    tracer.startActiveSpan(name, async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      span.end();
    });

  const run = Date.now().toString(36);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    // --- the clients, wrapped once -----------------------------------------------------
    const sqs = instrumentSqsClient(
      new SQSClient({
        endpoint: brokers.sqsEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
      }),
    );
    closers.push(() => Promise.resolve(sqs.destroy()));
    const { QueueUrl: ordersUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: `orders-${run}` }),
    );
    const amqp = await connect(brokers.rabbitmqUrl);
    closers.push(() => amqp.close());
    const shipments = traceChannel(await amqp.createChannel());
    closers.push(() => shipments.close());
    const shipmentsQueue = `shipments-${run}`;
    await shipments.assertQueue(shipmentsQueue, { autoDelete: true });
    const pubsub = new PubSub({
      projectId: 'tracehop-demo',
      apiEndpoint: brokers.pubsubEmulatorHost,
    });
    closers.push(() => pubsub.close());
    const [rawTopic] = await pubsub.createTopic(`order-events-${run}`);
    const [subscription] = await rawTopic.createSubscription(`notifications-${run}`);
    closers.push(() => subscription.close());
    const orderEvents = traceTopic(rawTopic);

    // --- the workers -------------------------------------------------------------------
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

    const notify = tracePubSubCloudEventHandler(
      async (event: CloudEvent<{ orderId: string }>, message: PubSubMessage) => {
        log(`notifications: ${event.type} for ${event.data?.orderId ?? '?'}`);
        await work('send email');
        message.ack();
      },
      { subscription },
    );
    const notified = new Promise<void>((resolve) => {
      // The decorated handler never rejects (an error would go to onError), and its promise
      // resolves once the `subscribe` span has ended: handler done, message acked.
      subscription.on('message', (message: PubSubMessage) => void notify(message).then(resolve));
    });

    // --- the API -----------------------------------------------------------------------
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

    // --- a cron job: each run its own root trace, linked to the previous run -------------
    const nightly = scheduledJob('nightly-report', async () => {
      log('cron: building the nightly report');
      await work('query orders');
    });
    await nightly();
    await nightly();
  } catch (error) {
    await close().catch(() => undefined); // the flow's error is the one to report
    throw error;
  }
  return { run, close };
}
