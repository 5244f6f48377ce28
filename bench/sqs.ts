/**
 * The SQS section of `npm run bench`: send + receive + delete of N messages in batches of 10
 * on a real SQS-protocol server (fauxqs, or SQS_ENDPOINT), each variant in a fresh process per
 * round (see sqs-worker.ts), the variants' order rotating from round to round. Run alone for
 * a quick look:
 *
 *   tsx bench/sqs.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';
import { runWorkerRounds } from './worker-rounds.js';

const VARIANTS = ['bare', 'bare+headers', 'tracehop', 'official', 'tracehop-client'] as const;
const worker = fileURLToPath(new URL('./sqs-worker.ts', import.meta.url));

/** One row per variant per round, from fresh processes against the SQS server of this run. */
export async function runSqsBench(opts: { messages: number; rounds: number }): Promise<BenchRow[]> {
  const brokers = await startBrokers(['sqs']);
  try {
    return await runWorkerRounds({
      worker,
      variants: VARIANTS,
      address: brokers.sqs.endpoint,
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
  const rows = summarise(await runSqsBench({ messages, rounds }));
  console.log(
    brokerTable(`SQS (client-sqs on fauxqs): ${messages} msgs, median of ${rounds} rounds`, rows),
  );
}
