/**
 * Messaging metrics and queue time on the SQS server (fauxqs): messages sent through an
 * instrumented client and consumed by sqs-consumer with `traceSqsHandler`, and records of a
 * real receive handed to `traceLambdaSqsHandler` — each given an SDK meter provider.
 */
import { once } from 'node:events';
import { ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { describe, expect, it } from 'vitest';
import {
  instrumentSqsClient,
  traceLambdaSqsHandler,
  traceSqsHandler,
  type LambdaSqsRecord,
} from '../../../adapters/sqs/index.js';
import {
  count,
  expectMessagingMetrics,
  expectQueueTimes,
  histogramPoints,
  metric,
  operation,
  pick,
  setupTestMetrics,
  total,
} from '../../metrics-kit.js';
import {
  createQueue,
  deleteQueue,
  named,
  newClient,
  REGION,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw } = useSqsTestbed();

const SERVER = ['server.address', 'server.port'];

/** Stops a consumer and waits for its last poll, so that no receive span is left open. */
async function stop(consumer: Consumer): Promise<void> {
  const stopped = once(consumer, 'stopped');
  consumer.stop();
  await stopped;
}

describe('messaging metrics and queue time on SQS', () => {
  it('instrumented client + sqs-consumer + traceSqsHandler: N sent, N consumed (counted at the receive, once), send/receive/delete timed, every process span with its queue time from SentTimestamp', async () => {
    const testMetrics = setupTestMetrics();
    const options = { meterProvider: testMetrics.meterProvider };
    const sqs = instrumentSqsClient(newClient(), options);
    const queue = await createQueue(raw, 'metrics');
    const n = 4;
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingCompleteWaitTimeMs: 5_000,
      handleMessage: traceSqsHandler((message: Message) => Promise.resolve(message), options),
    });
    let processed = 0;
    const allProcessed = new Promise<void>((resolve) => {
      consumer.on('message_processed', () => {
        processed++;
        if (processed === n) resolve();
      });
    });
    try {
      const beforeSend = Date.now();
      for (let i = 0; i < n; i++) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `o-${i}` }));
      }
      consumer.start();
      await allProcessed;
      await stop(consumer);
      const spans = await tracing.waitForSpans(
        (s) => s.filter(named(`process ${queue.name}`)).length === n,
      );
      const afterHandle = Date.now();
      const processSpans = spans.filter(named(`process ${queue.name}`));
      expectQueueTimes(processSpans, n, (afterHandle - beforeSend) / 1000);

      const send = spans.filter(named(`send ${queue.name}`))[0];
      const server = pick(send?.attributes ?? {}, SERVER);
      expect(server).toHaveProperty('server.address');
      const destination = {
        'messaging.system.name': 'aws.sqs',
        'messaging.destination.name': queue.name,
      };
      const collected = await testMetrics.collect();
      expectMessagingMetrics(collected, {
        messages: n,
        sent: { ...destination, 'messaging.operation.name': 'send', ...server },
        sendDuration: {
          ...destination,
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          ...server,
        },
        // The instrumented client's receive counts them; their process spans do not again.
        consumed: { ...destination, 'messaging.operation.name': 'receive', ...server },
        // `process` spans carry no server attributes on SQS, so neither do their metrics.
        processed: { ...destination, 'messaging.operation.name': 'process' },
      });
      const operations = metric(collected, 'messaging.client.operation.duration');
      expect(count(operations, operation('receive'))).toBeGreaterThanOrEqual(1);
      // sqs-consumer deletes each message: one timed DeleteMessage per message, a settle.
      const deletes = histogramPoints(operations).filter(
        (p) => p.attributes['messaging.operation.type'] === 'settle',
      );
      expect(deletes.map((p) => [p.attributes, p.value.count])).toEqual([
        [
          {
            ...destination,
            'messaging.operation.name': 'delete',
            'messaging.operation.type': 'settle',
          },
          n,
        ],
      ]);
    } finally {
      if (consumer.status.isRunning) await stop(consumer);
      sqs.destroy();
      await deleteQueue(raw, queue.url);
      await testMetrics.shutdown();
    }
  });

  it('traceLambdaSqsHandler: records of a real receive get their queue time from attributes.SentTimestamp, and are counted consumed when processed', async () => {
    const testMetrics = setupTestMetrics();
    const queue = await createQueue(raw, 'metrics-lambda');
    const n = 3;
    try {
      const beforeSend = Date.now();
      for (let i = 0; i < n; i++) {
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `o-${i}` }));
      }
      const received: Message[] = [];
      while (received.length < n) {
        const { Messages = [] } = await raw.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 5,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) throw new Error(`only ${received.length} of ${n} arrived`);
        received.push(...Messages);
      }
      const arn = `arn:aws:sqs:${REGION}:000000000000:${queue.name}`;
      const records = received.map((message): LambdaSqsRecord => {
        expect(message.Attributes?.SentTimestamp).toMatch(/^\d+$/);
        return {
          messageId: message.MessageId ?? '',
          receiptHandle: message.ReceiptHandle ?? '',
          body: message.Body ?? '',
          attributes: { ...message.Attributes },
          messageAttributes: {},
          md5OfBody: message.MD5OfBody,
          eventSource: 'aws:sqs',
          eventSourceARN: arn,
          awsRegion: REGION,
        };
      });
      const handler = traceLambdaSqsHandler(() => undefined, {
        meterProvider: testMetrics.meterProvider,
        flushTimeoutMs: 0,
      });
      expect(await handler({ Records: records }, undefined)).toEqual({ batchItemFailures: [] });
      const afterHandle = Date.now();
      const processSpans = tracing.spans().filter(named(`process ${queue.name}`));
      expectQueueTimes(processSpans, n, (afterHandle - beforeSend) / 1000);

      const collected = await testMetrics.collect();
      const processed = {
        'messaging.system.name': 'aws.sqs',
        'messaging.destination.name': queue.name,
        'messaging.operation.name': 'process',
      };
      expect(total(metric(collected, 'messaging.client.consumed.messages'))).toBe(n);
      for (const name of ['messaging.process.duration', 'tracehop.messaging.queue_time']) {
        expect(
          histogramPoints(metric(collected, name)).map((p) => [p.attributes, p.value.count]),
        ).toEqual([[processed, n]]);
      }
    } finally {
      await deleteQueue(raw, queue.url);
      await testMetrics.shutdown();
    }
  });
});
