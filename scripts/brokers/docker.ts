import { run } from './commands.js';

let engine: Promise<boolean> | undefined;

/** True when a Docker engine answers (`docker info` succeeds); checked once per process. */
export async function hasDockerEngine(): Promise<boolean> {
  engine ??= run('docker', ['info'], { timeoutMs: 15_000 }).then((result) => result.code === 0);
  return engine;
}
