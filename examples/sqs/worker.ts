/**
 * The worker: sqs-consumer polls `orders` through the instrumented client; every message is
 * handled in a `process orders` span, a child of the API's `send orders`, with the handler's
 * own spans and log lines in the same trace. sqs-consumer deletes the message after the
 * handler returns it, and the delete is recorded on the process span.
 */
import { once } from 'node:events';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { trace } from '@opentelemetry/api';
import { Consumer } from 'sqs-consumer';
import { traceSqsHandler } from '../../adapters/sqs/index.js';
import { traceLogFields } from '../../src/index.js';

const log = (message: string) => console.log(JSON.stringify({ message, ...traceLogFields() }));

export async function chargeCard(orderId: string): Promise<void> {
  log(`charging order ${orderId}`);
  await trace.getTracer('orders-worker').startActiveSpan('charge card', async (span) => {
    await new Promise((resolve) => setTimeout(resolve, 5)); // the payment provider
    span.end();
  });
}

/** Starts polling; `onProcessed` is called after each message is deleted. Returns a stop function. */
export function startWorker(
  sqs: SQSClient,
  queueUrl: string,
  onProcessed: (orderId: string) => void,
): () => Promise<void> {
  const consumer = Consumer.create({
    queueUrl,
    sqs,
    waitTimeSeconds: 1,
    pollingCompleteWaitTimeMs: 5_000,
    handleMessage: traceSqsHandler(async (message: Message) => {
      const { orderId } = JSON.parse(message.Body ?? '{}') as { orderId: string };
      await chargeCard(orderId);
      return message; // "delete it": the process span ends once the delete is done
    }),
  });
  consumer.on('message_processed', (message) => {
    onProcessed((JSON.parse(message.Body ?? '{}') as { orderId: string }).orderId);
  });
  consumer.start();
  return async () => {
    const stopped = once(consumer, 'stopped');
    consumer.stop();
    await stopped;
  };
}
