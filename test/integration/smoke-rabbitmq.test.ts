import { randomUUID } from 'node:crypto';
import { connect, type ConsumeMessage } from 'amqplib';
import { expect, inject, it } from 'vitest';
import { TRACEPARENT } from './traceparent.js';

it('RabbitMQ carries a traceparent header through unchanged (raw amqplib)', async () => {
  const connection = await connect(inject('rabbitmqUrl'));
  try {
    const channel = await connection.createChannel();
    const queue = `tracehop-smoke-${randomUUID()}`;
    await channel.assertQueue(queue, { exclusive: true });

    let onMessage: (message: ConsumeMessage | null) => void = () => {};
    const received = new Promise<ConsumeMessage>((resolve, reject) => {
      onMessage = (message) =>
        message ? resolve(message) : reject(new Error('consumer was cancelled by the broker'));
    });
    await channel.consume(queue, (message) => onMessage(message), { noAck: true });
    channel.sendToQueue(queue, Buffer.from('smoke'), { headers: { traceparent: TRACEPARENT } });

    const message = await received;
    const header: unknown = message.properties.headers?.['traceparent'];
    expect(header).toBe(TRACEPARENT); // a string (not a Buffer) with the very same characters
    expect(message.content.toString()).toBe('smoke');

    await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close();
  }
});
