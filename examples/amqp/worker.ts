/**
 * The worker: consumes `orders`, one `process orders` span per message, a child of the
 * API's `send orders`, with the handler's own spans and log lines in the same trace.
 */
import { trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { traceChannel } from '../../adapters/amqp/index.js';
import { traceLogFields } from '../../src/index.js';

const log = (message: string) => console.log(JSON.stringify({ message, ...traceLogFields() }));

/** Starts consuming; `onProcessed` is called after each message is acked. Returns a stop function. */
export async function startWorker(
  connection: ChannelModel,
  queue: string,
  onProcessed: (orderId: string) => void,
): Promise<() => Promise<void>> {
  const channel = traceChannel(await connection.createChannel());
  await channel.assertQueue(queue);
  await channel.prefetch(10);
  // The handler may be async: the process span stays current across its awaits.
  await channel.consume(queue, (message) => (message === null ? undefined : handle(message)));

  async function handle(message: ConsumeMessage): Promise<void> {
    const { orderId } = JSON.parse(message.content.toString()) as { orderId: string };
    log(`worker: charging order ${orderId}`);
    await trace.getTracer('orders-worker').startActiveSpan('charge card', async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // the payment provider
      span.end();
    });
    channel.ack(message); // the process span ends here: handler done and message settled
    onProcessed(orderId);
  }

  // Closing the channel first flushes its acks before the connection goes.
  return () => channel.close();
}
