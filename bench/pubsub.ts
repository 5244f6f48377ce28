/**
 * The Pub/Sub section of `npm run bench`: publish + receive + ack of N messages on the
 * emulator, each variant in a fresh process per round (see pubsub-worker.ts: the client's
 * built-in tracing cannot be switched off again in a process), the variants' order rotating
 * from round to round. Run alone for a quick look:
 *
 *   tsx bench/pubsub.ts [messages] [rounds]
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../scripts/brokers/index.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';
import { runWorkerRounds } from './worker-rounds.js';

const VARIANTS = ['bare', 'bare+headers', 'tracehop', 'official'] as const;
const worker = fileURLToPath(new URL('./pubsub-worker.ts', import.meta.url));

/** One row per variant per round, from fresh processes against the emulator of this run. */
export async function runPubsubBench(opts: {
  messages: number;
  rounds: number;
}): Promise<BenchRow[]> {
  const brokers = await startBrokers(['pubsub']);
  try {
    return await runWorkerRounds({
      worker,
      variants: VARIANTS,
      address: brokers.pubsub.host,
      messages: opts.messages,
      rounds: opts.rounds,
      env: { METADATA_SERVER_DETECTION: 'none' },
    });
  } finally {
    await brokers.stopAll();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 1_000);
  const rounds = Number(process.argv[3] ?? 1);
  const rows = summarise(await runPubsubBench({ messages, rounds }));
  console.log(
    brokerTable(`Pub/Sub (emulator): ${messages} msgs, median of ${rounds} rounds`, rows),
  );
}
