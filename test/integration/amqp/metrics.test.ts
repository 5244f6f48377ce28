/**
 * Messaging metrics and queue time on the real RabbitMQ: messages published through a
 * `traceChannel` wrapper, consumed with `traceAmqpHandler`, both given an SDK meter provider.
 */
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traceAmqpHandler, traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import {
  expectMessagingMetrics,
  expectQueueTimes,
  pick,
  setupTestMetrics,
} from '../../metrics-kit.js';
import { collector, named, only, openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const SERVER = ['server.address', 'server.port'];

describe('messaging metrics and queue time on RabbitMQ', () => {
  it('counts N sent and N consumed, times each send and process, and gives every process span its queue time from the timestamp tracehop’s producer set', async () => {
    const testMetrics = setupTestMetrics();
    const options = { meterProvider: testMetrics.meterProvider };
    const raw = await connection.createChannel();
    try {
      const producer = traceChannel(raw, options);
      const queue = uniqueName('metrics');
      await raw.assertQueue(queue, { exclusive: true });
      const n = 5;
      const timestamps = collector<unknown>(n);
      await raw.consume(
        queue,
        traceAmqpHandler(
          (message: ConsumeMessage | null) => {
            if (message !== null) timestamps.add(message.properties.timestamp);
          },
          { channel: raw, queue, autoSettle: true, ...options },
        ),
      );

      const beforeSend = Date.now();
      for (let i = 0; i < n; i++) producer.sendToQueue(queue, Buffer.from(`order-${i}`));
      const delivered = await timestamps.all;
      const spans = await tracing.waitForSpans((s) => named(s, `process ${queue}`).length === n);
      const afterHandle = Date.now();

      // tracehop's producer set the AMQP timestamp the caller did not: whole seconds.
      for (const timestamp of delivered) {
        expect(Number.isInteger(timestamp)).toBe(true);
        expect(timestamp).toBeGreaterThanOrEqual(Math.floor(beforeSend / 1000));
        expect(timestamp).toBeLessThanOrEqual(Math.floor(afterHandle / 1000));
      }
      // The timestamp has 1 s resolution (it is the send time rounded down to the second):
      // the wait can read up to 1 s long, never longer than from that second to the end.
      const wallSeconds = (afterHandle - Math.floor(beforeSend / 1000) * 1000) / 1000;
      expectQueueTimes(named(spans, `process ${queue}`), n, wallSeconds);

      const send = named(spans, `send ${queue}`)[0];
      const process = only(
        spans.filter((s) => s.attributes['rabbitmq.message.delivery_tag'] === 1),
        `process ${queue}`,
      );
      const server = pick(send?.attributes ?? {}, SERVER);
      expect(server).toHaveProperty('server.address');
      const destination = {
        'messaging.system.name': 'rabbitmq',
        'messaging.destination.name': queue,
      };
      expectMessagingMetrics(await testMetrics.collect(), {
        messages: n,
        sent: { ...destination, 'messaging.operation.name': 'send', ...server },
        sendDuration: {
          ...destination,
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          ...server,
        },
        consumed: {
          ...destination,
          'messaging.operation.name': 'process',
          ...pick(process.attributes, SERVER),
        },
        processed: {
          ...destination,
          'messaging.operation.name': 'process',
          ...pick(process.attributes, SERVER),
        },
      });
    } finally {
      await raw.close();
      await testMetrics.shutdown();
    }
  });
});
