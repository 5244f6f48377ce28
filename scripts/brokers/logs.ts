import { mkdirSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** <repo>/.brokers/ (git-ignored): where the harness writes the output of the brokers it starts. */
export const logDir = fileURLToPath(new URL('../../.brokers/', import.meta.url));

/** Opens (truncating) <repo>/.brokers/<name>.log for a child's stdout/stderr; returns its path and fd. */
export function openLog(name: string): { path: string; fd: number } {
  mkdirSync(logDir, { recursive: true });
  const path = `${logDir}${name}.log`;
  return { path, fd: openSync(path, 'w') };
}
