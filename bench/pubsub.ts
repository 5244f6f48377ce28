/**
 * The Pub/Sub section of `npm run bench`: publish + receive + ack of N messages on the
 * emulator, each variant in a fresh process per round (see pubsub-worker.ts: the client's
 * built-in tracing cannot be switched off again in a process), the variants' order rotating
 * from round to round. Run alone for a quick look:
 *
 *   tsx bench/pubsub.ts [messages] [rounds]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../test/brokers/index.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';

const VARIANTS = ['bare', 'bare+headers', 'tracehop', 'official'] as const;
const worker = fileURLToPath(new URL('./pubsub-worker.ts', import.meta.url));

/** One row per variant per round, from fresh processes against the emulator of this run. */
export async function runPubsubBench(opts: {
  messages: number;
  rounds: number;
}): Promise<BenchRow[]> {
  const brokers = await startBrokers(['pubsub']);
  try {
    const rows: BenchRow[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(round + i) % VARIANTS.length] as string;
        rows.push(await runWorker(variant, opts.messages, brokers.pubsub.host));
      }
    }
    return rows;
  } finally {
    await brokers.stopAll();
  }
}

/** The same, under the name the other broker sections use (`run<Broker>Bench`). */
export const runPubSubBench = runPubsubBench;

function runWorker(variant: string, messages: number, host: string): Promise<BenchRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', worker, variant, String(messages), host],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as BenchRow);
      else reject(new Error(`bench worker ${variant} exited with ${code}:\n${stderr}${stdout}`));
    });
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const messages = Number(process.argv[2] ?? 1_000);
  const rounds = Number(process.argv[3] ?? 1);
  const rows = summarise(await runPubsubBench({ messages, rounds }));
  console.log(
    brokerTable(`Pub/Sub (emulator): ${messages} msgs, median of ${rounds} rounds`, rows),
  );
}
