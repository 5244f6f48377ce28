import { promisify } from 'node:util';
import type { Channel, Connection, ConsumeMessage, GetMessage } from 'amqplib/callback_api';
import { connect } from 'amqplib/callback_api';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collector, deferred, isChildOf, linksTo, uniqueName } from './kit.js';

const tracing = setupTestTracing();
let connection: Connection;

beforeAll(async () => {
  connection = await promisify<string, Connection>(connect)(inject('rabbitmqUrl'));
});
afterAll(async () => {
  await promisify((done: (error?: unknown) => void) => connection.close(done))();
  await tracing.shutdown();
});
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

it('the callback API: publish, consume with chained acks, and get with a callback are traced', async () => {
  const raw = await promisify((done: (error: unknown, channel: Channel) => void) =>
    connection.createChannel(done),
  )();
  const channel = traceChannel(raw);
  const queue = uniqueName('callback-api');
  await promisify((done: (error: unknown) => void) =>
    channel.assertQueue(queue, { exclusive: true }, done),
  )();

  const consumed = collector<ConsumeMessage>(2);
  const consuming = deferred();
  channel.consume(
    queue,
    (message) => {
      if (message !== null) consumed.add(message);
    },
    {},
    () => consuming.resolve(),
  );
  await consuming.promise;
  channel.sendToQueue(queue, Buffer.from('1'));
  channel.sendToQueue(queue, Buffer.from('2'));
  const [first, second] = (await consumed.all) as [ConsumeMessage, ConsumeMessage];
  // The callback API returns the channel for chaining: the wrapper returns the wrapper.
  const chained = channel.ack(first) as unknown;
  expect(chained).toBe(channel);
  (chained as Channel).ack(second);

  // Stop consuming, so that the next message waits in the queue for get.
  await promisify((done: (error: unknown) => void) => channel.cancel(queueTag(first), done))();
  channel.sendToQueue(queue, Buffer.from('3'), { messageId: 'pulled' });
  const pulled = await new Promise<GetMessage | false>((resolve, reject) => {
    const attempt = () =>
      channel.get(queue, { noAck: true }, (error, message) => {
        if (error !== null) reject(error);
        else if (message === false) setImmediate(attempt);
        else resolve(message);
      });
    attempt();
  });
  expect(pulled && pulled.properties.messageId).toBe('pulled');

  const spans = await tracing.waitForSpans(
    (s) =>
      s.filter((x) => x.name === `process ${queue}`).length === 2 &&
      s.some((x) => x.name === `receive ${queue}` && x.links.length === 1),
  );
  const processes = spans.filter((s) => s.name === `process ${queue}`);
  const sends = spans.filter((s) => s.name === `send ${queue}`);
  expect(sends).toHaveLength(3);
  for (const process of processes) {
    expect(sends.some((send) => isChildOf(process, send))).toBe(true);
    expect(process.events.map((e) => e.name)).toEqual(['ack']);
  }
  const receive = spans.find((s) => s.name === `receive ${queue}` && s.links.length === 1);
  const pulledSend = sends.find((s) => s.attributes['messaging.message.id'] === 'pulled');
  expect(pulledSend && receive && linksTo(receive, pulledSend)).toBe(true);
  await promisify((done: (error?: unknown) => void) => channel.close(done))();
});

function queueTag(message: ConsumeMessage): string {
  return message.fields.consumerTag;
}
