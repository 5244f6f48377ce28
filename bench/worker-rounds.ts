import { spawn } from 'node:child_process';

/** One worker process to run each round: a variant, with its own environment (sampler…). */
export interface WorkerRun {
  readonly variant: string;
  /** Environment of this run on top of the spec's. */
  readonly env?: NodeJS.ProcessEnv;
}

/** How to run one broker section's workers: a script taking `<variant> <messages> <address>`. */
export interface WorkerRounds {
  /** Absolute path of the worker script, run with `node --expose-gc --import tsx`. */
  readonly worker: string;
  /** The runs, in the order of the first round; later rounds rotate it. */
  readonly runs: readonly WorkerRun[];
  /** The broker's address, passed as the worker's third argument. */
  readonly address: string;
  readonly messages: number;
  readonly rounds: number;
  /** Extra environment for every worker. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs every run once per round, each in a fresh process (the official instrumentations
 * patch their client for the whole process), the order rotating from round to round so that
 * no run always comes first or last, and a noisy moment does not fall on one variant or one
 * sampler only. Returns what each worker printed last (a JSON line), in the order run.
 */
export async function runWorkerRounds<T>(spec: WorkerRounds): Promise<T[]> {
  const rows: T[] = [];
  const runs = spec.runs;
  for (let round = 0; round < spec.rounds; round++) {
    for (let i = 0; i < runs.length; i++) {
      const run = runs[(round + i) % runs.length] as WorkerRun;
      const stdout = await spawnWorker(
        spec.worker,
        [run.variant, String(spec.messages), spec.address],
        { ...spec.env, ...run.env },
      );
      rows.push(lastJsonLine(stdout) as T);
    }
  }
  return rows;
}

/**
 * Runs a worker script in a fresh `node --expose-gc --import tsx` process and resolves with
 * its standard output once it exited with 0.
 *
 * @throws Error with the worker's output when it exits otherwise
 */
export function spawnWorker(
  worker: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', worker, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`bench worker ${args.join(' ')} exited with ${code}:\n${stderr}${stdout}`),
        );
    });
  });
}

/**
 * The last line of a worker's output, parsed: the row it reports.
 *
 * @throws Error when that line is not a JSON object
 */
export function lastJsonLine(stdout: string): unknown {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (!last.startsWith('{')) throw new Error(`a bench worker printed no row:\n${stdout}`);
  return JSON.parse(last) as unknown;
}
