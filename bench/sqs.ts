/**
 * The SQS section of `npm run bench`: send + receive + delete of N messages in batches of 10
 * on a real SQS-protocol server (fauxqs, or SQS_ENDPOINT; see sqs-worker.ts). Run alone for
 * a quick look at the throughput case:
 *
 *   tsx bench/sqs.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { throughput, withBroker, type BrokerSection } from './broker-bench.js';

/** SQS through @aws-sdk/client-sqs. */
export const sqsSection: BrokerSection = {
  name: 'sqs',
  title: 'SQS (@aws-sdk/client-sqs on fauxqs)',
  worker: fileURLToPath(new URL('./sqs-worker.ts', import.meta.url)),
  variants: ['bare', 'bare+headers', 'tracehop', 'official', 'tracehop-client', 'sdk-floor'],
  messages: 2_000,
  realisticMessages: 1_000,
  async start() {
    const brokers = await startBrokers(['sqs']);
    return { address: brokers.sqs.endpoint, stop: () => brokers.stopAll() };
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 2_000);
  const rounds = Number(process.argv[3] ?? 1);
  console.log(
    await withBroker(sqsSection, (address) =>
      throughput(sqsSection, address, { messages, rounds }),
    ),
  );
}
