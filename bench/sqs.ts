/**
 * The SQS section of `npm run bench`: send + receive + delete of N messages in batches of 10
 * on a real SQS-protocol server (fauxqs, or SQS_ENDPOINT), each variant in a fresh process per
 * round (see sqs-worker.ts), the variants' order rotating from round to round. Run alone for
 * a quick look:
 *
 *   tsx bench/sqs.ts [messages] [rounds]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBrokers } from '../test/brokers/index.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';

const VARIANTS = ['bare', 'bare+headers', 'tracehop', 'official', 'tracehop-client'] as const;
const worker = fileURLToPath(new URL('./sqs-worker.ts', import.meta.url));

/** One row per variant per round, from fresh processes against the SQS server of this run. */
export async function runSqsBench(opts: { messages: number; rounds: number }): Promise<BenchRow[]> {
  const brokers = await startBrokers(['sqs']);
  try {
    const rows: BenchRow[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(round + i) % VARIANTS.length] as string;
        rows.push(await runWorker(variant, opts.messages, brokers.sqs.endpoint));
      }
    }
    return rows;
  } finally {
    await brokers.stopAll();
  }
}

function runWorker(variant: string, messages: number, endpoint: string): Promise<BenchRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', worker, variant, String(messages), endpoint],
      { stdio: ['ignore', 'pipe', 'pipe'] },
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
  const messages = Number(process.argv[2] ?? 2_000);
  const rounds = Number(process.argv[3] ?? 1);
  const rows = summarise(await runSqsBench({ messages, rounds }));
  console.log(
    brokerTable(`SQS (client-sqs on fauxqs): ${messages} msgs, median of ${rounds} rounds`, rows),
  );
}
