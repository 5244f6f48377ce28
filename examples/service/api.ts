/**
 * The API process: `POST /orders` puts the order on the SQS queue. The HTTP instrumentation makes
 * the request's SERVER span; tracehop's `send orders` span is its child, and the message carries
 * its context to the worker.
 *
 *   OTEL_SERVICE_NAME=orders-api PORT=3000 \
 *   node --import tsx --import ./examples/service/otel.ts examples/service/api.ts
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import { traceLogFields } from '../../src/index.js'; // in your service: 'tracehop'
import { ordersQueueUrl, sqs } from './sqs.js';

const logger = pino({ mixin: () => traceLogFields() });
const queueUrl = await ordersQueueUrl();

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/orders') return void res.writeHead(404).end();
  const orderId = randomUUID();
  logger.info({ orderId }, 'order accepted');
  sqs
    .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ orderId }) }))
    .then(
      () =>
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ orderId })),
      (error: unknown) => {
        logger.error({ err: error, orderId }, 'could not enqueue the order');
        res.writeHead(503).end();
      },
    );
});
server.listen(Number(process.env['PORT'] ?? 3000), () => {
  logger.info({ port: (server.address() as AddressInfo).port }, 'listening');
});
