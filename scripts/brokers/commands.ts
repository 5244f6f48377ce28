import { execFile, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { openLog } from './logs.js';

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a command to completion and returns its exit code and combined output; never throws for a non-zero exit. */
export async function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (error === null) return resolve({ code: 0, output });
        // error.code is the exit code, or a string such as 'ENOENT' when the command could not start
        const code = typeof error.code === 'number' ? error.code : -1;
        resolve({ code, output: output || error.message });
      },
    );
  });
}

/** Like run(), but throws with the command's output when it exits non-zero. */
export async function runOrThrow(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(
      `\`${[file, ...args].join(' ')}\` failed (exit ${result.code}):\n${result.output}`,
    );
  }
  return result.output;
}

/**
 * Runs a command with its output going to <repo>/.brokers/<logName>.log instead of pipes: needed for
 * commands that leave a daemon behind (`rabbitmq-server -detached`), which would otherwise hold our
 * pipes open. Resolves with the exit code (-1 if it could not start) and the log's path.
 */
export async function runToLog(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logName: string },
): Promise<{ code: number; logPath: string }> {
  const log = openLog(options.logName);
  const child = spawn(file, args, {
    env: options.env ?? process.env,
    stdio: ['ignore', log.fd, log.fd],
  });
  closeSync(log.fd);
  return new Promise((resolve) => {
    child.once('error', () => resolve({ code: -1, logPath: log.path }));
    child.once('exit', (code) => resolve({ code: code ?? -1, logPath: log.path }));
  });
}

/** Absolute path of an executable found on PATH or in extraDirs (e.g. /usr/sbin, often missing from a user's PATH). */
export async function findExecutable(
  name: string,
  extraDirs: readonly string[] = [],
): Promise<string | undefined> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

export const isRoot = (): boolean => process.getuid?.() === 0;
