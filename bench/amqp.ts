/**
 * The RabbitMQ section of `npm run bench`: publish + consume + ack of N messages on a real
 * broker (see amqp-worker.ts). Run alone for a quick look at the throughput case:
 *
 *   tsx bench/amqp.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { throughput, withBroker, type BrokerSection } from './broker-bench.js';

/** RabbitMQ through amqplib. */
export const amqpSection: BrokerSection = {
  name: 'amqp',
  title: 'RabbitMQ (amqplib)',
  worker: fileURLToPath(new URL('./amqp-worker.ts', import.meta.url)),
  variants: ['bare', 'bare+headers', 'tracehop', 'official', 'sdk-floor'],
  messages: 15_000,
  realisticMessages: 15_000,
  async start() {
    const brokers = await startBrokers(['rabbitmq']);
    return { address: brokers.rabbitmq.url, stop: () => brokers.stopAll() };
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 2_000);
  const rounds = Number(process.argv[3] ?? 1);
  console.log(
    await withBroker(amqpSection, (address) =>
      throughput(amqpSection, address, { messages, rounds }),
    ),
  );
}
