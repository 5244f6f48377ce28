/**
 * The worker process: sqs-consumer polls the orders queue through the instrumented client, and
 * tracehop runs each message in a `process orders` span that continues the API's trace — so the
 * handler's own spans and log lines are in the request's trace.
 *
 *   OTEL_SERVICE_NAME=orders-worker \
 *   node --import tsx --import ./examples/service/otel.ts examples/service/worker.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@aws-sdk/client-sqs';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Consumer } from 'sqs-consumer';
import { traceSqsHandler } from '../../adapters/sqs/index.js'; // in your service: 'tracehop/sqs'
import { traceLogFields } from '../../src/index.js'; // in your service: 'tracehop'
import { ordersQueueUrl, sqs } from './sqs.js';

const logger = pino({ mixin: () => traceLogFields() });
const tracer = trace.getTracer('orders-worker');

const consumer = Consumer.create({
  queueUrl: await ordersQueueUrl(),
  sqs, // the instrumented client: the delete is recorded on the process span
  handleMessage: traceSqsHandler(async (message: Message) => {
    const { orderId } = JSON.parse(message.Body ?? '{}') as { orderId: string };
    await tracer.startActiveSpan('charge card', async (span) => {
      logger.info({ orderId }, 'charging the card');
      await sleep(10); // the payment provider
      span.end();
    });
    return message; // sqs-consumer deletes it; the process span ends when the delete is done
  }),
});
consumer.on('error', (error) => logger.error({ err: error }, 'sqs-consumer error'));
consumer.on('processing_error', (error) => logger.error({ err: error }, 'handler failed'));
consumer.start();
logger.info('polling');
