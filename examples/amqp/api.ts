/**
 * The API: `POST /orders` enqueues the order on RabbitMQ. The `send orders` span is a
 * child of the request's span, and its context travels in the message's headers.
 */
import { createServer, type Server } from 'node:http';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { ChannelModel } from 'amqplib';
import { traceChannel } from '../../adapters/amqp/index.js';

export async function startApi(connection: ChannelModel, queue: string): Promise<Server> {
  const channel = traceChannel(await connection.createConfirmChannel());
  await channel.assertQueue(queue);
  let next = 1;
  return createServer((req, res) => {
    // An HTTP instrumentation would do this part: a SERVER span for the request.
    const incoming = propagation.extract(context.active(), req.headers);
    const span = trace
      .getTracer('orders-api')
      .startSpan('POST /orders', { kind: SpanKind.SERVER }, incoming);
    context.with(trace.setSpan(incoming, span), () => {
      const orderId = `order-${next++}`;
      const body = Buffer.from(JSON.stringify({ orderId }));
      // On a confirm channel the send span ends when the broker has the message.
      channel.sendToQueue(queue, body, { messageId: orderId, persistent: true }, (error) => {
        res.writeHead(error === null ? 202 : 503).end();
        span.end();
      });
    });
  });
}
