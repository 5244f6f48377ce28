import { spawn } from 'node:child_process';
import type { BenchRow } from './types.js';

/** How to run one broker section's variants: a worker script taking `<variant> <messages> <address>`. */
export interface WorkerRounds {
  /** Absolute path of the worker script, run with `node --expose-gc --import tsx`. */
  readonly worker: string;
  /** The variants, in the order of the first round; later rounds rotate it. */
  readonly variants: readonly string[];
  /** The broker's address, passed as the worker's third argument. */
  readonly address: string;
  readonly messages: number;
  readonly rounds: number;
  /** Extra environment for the workers. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs every variant once per round, each in a fresh process (the official
 * instrumentations patch their client for the whole process), the order rotating from
 * round to round so no variant always runs first or last. One row per variant per round.
 */
export async function runWorkerRounds(spec: WorkerRounds): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (let round = 0; round < spec.rounds; round++) {
    for (let i = 0; i < spec.variants.length; i++) {
      const variant = spec.variants[(round + i) % spec.variants.length] as string;
      rows.push(await runWorker(spec, variant));
    }
  }
  return rows;
}

function runWorker(spec: WorkerRounds, variant: string): Promise<BenchRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', spec.worker, variant, String(spec.messages), spec.address],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env } },
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
