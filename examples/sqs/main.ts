/**
 * API → SQS → worker, in one process, printed as one trace; then the same kind of message
 * through the Lambda handler. Uses SQS_ENDPOINT, or starts an embedded fauxqs on loopback.
 *
 *   tsx examples/sqs/main.ts
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { instrumentSqsClient } from '../../adapters/sqs/index.js';
import { setupTestTracing } from '../../src/testing/index.js';
import { startApi } from './api.js';
import { handler } from './lambda.js';
import { startWorker } from './worker.js';

// In a service: the OpenTelemetry SDK. Here: spans in memory, printed at the end.
const tracing = setupTestTracing();

let endpoint = process.env['SQS_ENDPOINT'];
let stopServer = (): Promise<void> => Promise.resolve();
if (endpoint === undefined) {
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false });
  endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  stopServer = () => app.close();
}
const sqs = instrumentSqsClient(
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
);
const { QueueUrl: queueUrl = '' } = await sqs.send(
  new CreateQueueCommand({ QueueName: `tracehop-example-orders-${Date.now()}` }),
);

// 1. API → SQS → sqs-consumer worker
let processed: (orderId: string) => void = () => undefined;
const done = new Promise<string>((resolve) => (processed = resolve));
const stopWorker = startWorker(sqs, queueUrl, processed);
const server = startApi(sqs, queueUrl);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
await new Promise<void>((resolve, reject) => {
  request({ host: '127.0.0.1', port, method: 'POST', path: '/orders' }, (res) => {
    res.resume().on('end', resolve);
  })
    .on('error', reject)
    .end();
});
console.log(`processed ${await done}\n`);
server.close();
await stopWorker();
console.log(tracing.tree());
tracing.reset();

// 2. The Lambda handler, with the event Lambda's SQS poller would deliver
await sqs.send(
  new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: JSON.stringify({ orderId: 'order-λ' }),
  }),
);
const { Messages = [] } = await sqs.send(
  new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }),
);
const { Attributes } = await sqs.send(
  new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
);
const response = await handler(
  {
    Records: Messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: { ...message.Attributes },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          { stringValue: value.StringValue, dataType: value.DataType ?? 'String' },
        ]),
      ),
      eventSource: 'aws:sqs',
      eventSourceARN: Attributes?.QueueArn ?? '',
      awsRegion: 'us-east-1',
    })),
  },
  { getRemainingTimeInMillis: () => 30_000 },
);
console.log(`\nlambda answered ${JSON.stringify(response)}\n`);
console.log(tracing.tree());

await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
sqs.destroy();
await stopServer();
await tracing.shutdown();
