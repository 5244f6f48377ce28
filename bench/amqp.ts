/**
 * The RabbitMQ section of `npm run bench`: publish + consume + ack of N messages on a real
 * broker, each variant in a fresh process per round (see amqp-worker.ts), the variants'
 * order rotating from round to round. Run alone for a quick look:
 *
 *   tsx bench/amqp.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';
import { runWorkerRounds } from './worker-rounds.js';

const VARIANTS = ['bare', 'bare+headers', 'tracehop', 'official'] as const;
const worker = fileURLToPath(new URL('./amqp-worker.ts', import.meta.url));

/** One row per variant per round, from fresh processes against the RabbitMQ of this run. */
export async function runAmqpBench(opts: {
  messages: number;
  rounds: number;
}): Promise<BenchRow[]> {
  const brokers = await startBrokers(['rabbitmq']);
  try {
    return await runWorkerRounds({
      worker,
      variants: VARIANTS,
      address: brokers.rabbitmq.url,
      messages: opts.messages,
      rounds: opts.rounds,
    });
  } finally {
    await brokers.stopAll();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 2_000);
  const rounds = Number(process.argv[3] ?? 1);
  const rows = summarise(await runAmqpBench({ messages, rounds }));
  console.log(
    brokerTable(`RabbitMQ (amqplib): ${messages} msgs, median of ${rounds} rounds`, rows),
  );
}
