/**
 * Every W3C conformance case (test/w3c/cases.json) through RabbitMQ: published with a plain
 * amqplib channel, headers exactly as the suites send them (a repeated name as an AMQP field
 * array), consumed through `traceChannel`. One queue, one message per case, the case id as
 * the body.
 */
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { headerRecord } from '../../w3c/cases.js';
import { conformanceRun, notApplicableIds } from '../w3c-kit.js';
import { openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});

it('RabbitMQ carries every case: none is not applicable', () => {
  expect(notApplicableIds('rabbitmq')).toEqual([]);
});

it('every case reaches the handler with the trace, tracestate and baggage W3C calls for', async () => {
  const run = conformanceRun('rabbitmq');
  const raw = await connection.createChannel();
  const consumer = traceChannel(await connection.createChannel(), {
    tracerProvider: run.tracerProvider,
  });
  const queue = uniqueName('w3c');
  await raw.assertQueue(queue, { exclusive: true });
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    run.capture(message.content.toString());
    consumer.ack(message);
  });
  const startedAt = performance.now();
  for (const c of run.cases) {
    raw.sendToQueue(queue, Buffer.from(c.id), {
      headers: headerRecord(c.headers),
      messageId: c.id,
    });
  }
  await run.check(startedAt);
  await raw.close();
  await consumer.close();
});
