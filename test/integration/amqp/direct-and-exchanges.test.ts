import { SpanKind, trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_AMQP_REDELIVERED, traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collector, isChildOf, linksTo, only, openConnection, uniqueName } from './kit.js';

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

describe('a message through RabbitMQ stays in one trace', () => {
  it('direct queue: process is a child of send, the handler runs in it, and the ack is on it', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('direct');
    await channel.assertQueue(queue, { exclusive: true });
    const headers = { tenant: 'acme' };
    const options = { headers, messageId: 'm-1', correlationId: 'order-7' };
    const seen = collector<{ message: ConsumeMessage; activeSpanId: string | undefined }>(1);
    await channel.consume(queue, (message) => {
      if (message === null) return;
      trace.getTracer('job').startSpan('charge card').end();
      seen.add({ message, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
      channel.ack(message);
    });

    const api = trace.getTracer('api').startSpan('POST /orders', { kind: SpanKind.SERVER });
    const accepted = trace.getTracer('api').startActiveSpan('enqueue', (span) => {
      const result = channel.sendToQueue(queue, Buffer.from('{"id":7}'), options);
      span.end();
      return result;
    });
    api.end();
    expect(accepted).toBe(true);
    // The caller's objects are untouched: the headers went out in a copy.
    expect(headers).toEqual({ tenant: 'acme' });
    expect(Object.keys(options)).toEqual(['headers', 'messageId', 'correlationId']);

    const [{ message, activeSpanId }] = (await seen.all) as [
      { message: ConsumeMessage; activeSpanId: string | undefined },
    ];
    expect(message.properties.headers?.['tenant']).toBe('acme');
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const send = only(spans, `send ${queue}`);
    const process = only(spans, `process ${queue}`);
    const job = only(spans, 'charge card');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(isChildOf(send, only(spans, 'enqueue'))).toBe(true);
    expect(isChildOf(process, send)).toBe(true);
    expect(linksTo(process, send)).toBe(true);
    expect(isChildOf(job, process)).toBe(true);
    expect(activeSpanId).toBe(process.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system.name': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.destination.name': queue,
      'rabbitmq.destination.routing_key': queue,
      'messaging.message.id': 'm-1',
      'messaging.message.conversation_id': 'order-7',
      'messaging.message.body.size': 8,
      'server.address': '127.0.0.1',
    });
    expect(typeof send.attributes['server.port']).toBe('number');
    expect(process.attributes).toMatchObject({
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'rabbitmq.message.delivery_tag': message.fields.deliveryTag,
      'messaging.message.id': 'm-1',
      'messaging.message.conversation_id': 'order-7',
    });
    expect(process.attributes[ATTR_AMQP_REDELIVERED]).toBeUndefined();
    expect(process.events.map((e) => e.name)).toEqual(['ack']);
    expect(process.events[0]?.attributes).toMatchObject({ 'messaging.operation.type': 'settle' });
    await channel.close();
  });

  it('fanout exchange: two consumers each process the message as children of the one send span', async () => {
    const channel = traceChannel(await connection.createChannel());
    const exchange = uniqueName('fanout');
    await channel.assertExchange(exchange, 'fanout', { autoDelete: true });
    const queues = [uniqueName('fan-a'), uniqueName('fan-b')];
    const seen = collector<string>(2);
    for (const queue of queues) {
      await channel.assertQueue(queue, { exclusive: true });
      await channel.bindQueue(queue, exchange, '');
      await channel.consume(queue, (message) => {
        if (message === null) return;
        channel.ack(message);
        seen.add(queue);
      });
    }
    channel.publish(exchange, '', Buffer.from('event'));
    await seen.all;
    const spans = await tracing.waitForSpans(
      (s) => s.filter((x) => x.name.startsWith('process ')).length === 2,
    );
    const send = only(spans, `send ${exchange}`);
    for (const queue of queues) {
      const process = only(spans, `process ${exchange}:${queue}`);
      expect(isChildOf(process, send)).toBe(true);
      expect(process.attributes['messaging.destination.name']).toBe(`${exchange}:${queue}`);
    }
    await channel.close();
  });

  it('topic exchange: the routing key is in names and attributes, and only matching queues process', async () => {
    const channel = traceChannel(await connection.createChannel());
    const exchange = uniqueName('topic');
    await channel.assertExchange(exchange, 'topic', { autoDelete: true });
    const europe = uniqueName('eu');
    const america = uniqueName('us');
    await channel.assertQueue(europe, { exclusive: true });
    await channel.assertQueue(america, { exclusive: true });
    await channel.bindQueue(europe, exchange, 'orders.eu.*');
    await channel.bindQueue(america, exchange, 'orders.us.*');
    const seen = collector<string>(2);
    for (const queue of [europe, america]) {
      await channel.consume(queue, (message) => {
        if (message === null) return;
        channel.ack(message);
        seen.add(`${queue} ${message.fields.routingKey}`);
      });
    }
    channel.publish(exchange, 'orders.eu.created', Buffer.from('1'));
    channel.publish(exchange, 'orders.us.paid', Buffer.from('2'));
    expect((await seen.all).sort()).toEqual(
      [`${europe} orders.eu.created`, `${america} orders.us.paid`].sort(),
    );
    const spans = await tracing.waitForSpans(
      (s) => s.filter((x) => x.name.startsWith('process ')).length === 2,
    );
    const sendEu = only(spans, `send ${exchange}:orders.eu.created`);
    const processEu = only(spans, `process ${exchange}:orders.eu.created:${europe}`);
    const sendUs = only(spans, `send ${exchange}:orders.us.paid`);
    const processUs = only(spans, `process ${exchange}:orders.us.paid:${america}`);
    expect(isChildOf(processEu, sendEu)).toBe(true);
    expect(isChildOf(processUs, sendUs)).toBe(true);
    expect(sendEu.spanContext().traceId).not.toBe(sendUs.spanContext().traceId);
    expect(processEu.attributes['rabbitmq.destination.routing_key']).toBe('orders.eu.created');
    await channel.close();
  });
});
