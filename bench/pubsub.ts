/**
 * The Pub/Sub section of `npm run bench`: publish + receive + ack of N messages on the
 * emulator (see pubsub-worker.ts: the client's built-in tracing cannot be switched off again
 * in a process). Run alone for a quick look at the throughput case:
 *
 *   tsx bench/pubsub.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { throughput, withBroker, type BrokerSection } from './broker-bench.js';

/** Google Pub/Sub through @google-cloud/pubsub, on the emulator. */
export const pubsubSection: BrokerSection = {
  name: 'pubsub',
  title: 'Pub/Sub (emulator)',
  worker: fileURLToPath(new URL('./pubsub-worker.ts', import.meta.url)),
  variants: ['bare', 'bare+headers', 'tracehop', 'official', 'sdk-floor'],
  messages: 5_000,
  realisticMessages: 5_000,
  env: { METADATA_SERVER_DETECTION: 'none' },
  async start() {
    const brokers = await startBrokers(['pubsub']);
    return { address: brokers.pubsub.host, stop: () => brokers.stopAll() };
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 1_000);
  const rounds = Number(process.argv[3] ?? 1);
  console.log(
    await withBroker(pubsubSection, (address) =>
      throughput(pubsubSection, address, { messages, rounds }),
    ),
  );
}
