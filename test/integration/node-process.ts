/**
 * A TypeScript entry point run in its own Node process, as `node --import tsx …` runs it, with
 * its stdout read line by line (JSON lines parsed) so a test can wait for a log line, and a
 * promise that rejects — with the exit code and the end of stderr — if the process dies while the
 * test still needs it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type LogLine = Readonly<Record<string, unknown>>;

export interface NodeProcess {
  readonly name: string;
  /** Every stdout line that was a JSON object, in order. */
  logLines(): readonly LogLine[];
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /**
   * Resolves with what `check` returns for the first stdout JSON line it returns something
   * for; rejects if the process exits first, or after `timeoutMs`.
   */
  waitForLog<T>(
    what: string,
    check: (line: LogLine) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  /** Rejects (with a message naming the process) when it exits before {@link stop} is called. */
  readonly died: Promise<never>;
  /** Resolves with the exit code (or signal) once the process has exited, however it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface NodeProcessOptions {
  /** Modules loaded before the entry point, after tsx: `--import` each. */
  readonly imports?: readonly string[];
  /** The whole environment of the process. */
  readonly env: NodeJS.ProcessEnv;
}

/** The current environment without the variables a test must not pass on to a child. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('OTEL_') && key !== 'NODE_OPTIONS',
    ),
  );
}

interface LineWaiter {
  check: (line: LogLine) => boolean;
  fail: (error: Error) => void;
}

export function startNodeProcess(
  name: string,
  entry: string,
  options: NodeProcessOptions,
): NodeProcess {
  const args = ['--import', 'tsx', ...(options.imports ?? []).flatMap((m) => ['--import', m])];
  const child = spawn(process.execPath, [...args, entry], {
    cwd: REPOSITORY_ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let output = '';
  let partial = '';
  let stopping = false;
  const waiters = new Set<LineWaiter>();

  const tail = () => output.split('\n').slice(-40).join('\n');
  const exitError = (code: number | null, signal: NodeJS.Signals | null) =>
    new Error(
      `${name} (node ${args.join(' ')} ${entry}) exited with ${
        signal === null ? `code ${code}` : `signal ${signal}`
      } while the test still needed it; its last output:\n${tail()}`,
    );

  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue; // not a log line
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
      const line = parsed as LogLine;
      lines.push(line);
      for (const waiter of waiters) waiter.check(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      output += `\n${String(error)}`;
      resolve({ code: null, signal: null });
    });
  });
  const died = exited.then(({ code, signal }): never => {
    const error = exitError(code, signal);
    if (!stopping) for (const waiter of waiters) waiter.fail(error);
    throw error;
  });
  died.catch(() => undefined); // only a failure for whoever races with it

  return {
    name,
    logLines: () => lines,
    output: () => output,
    waitForLog<T>(
      what: string,
      check: (line: LogLine) => T | undefined,
      timeoutMs = 30_000,
    ): Promise<T> {
      for (const line of lines) {
        const found = check(line);
        if (found !== undefined) return Promise.resolve(found);
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(exitError(child.exitCode, child.signalCode));
      }
      return new Promise<T>((resolve, reject) => {
        const waiter: LineWaiter = {
          check: (line) => {
            const found = check(line);
            if (found === undefined) return false;
            done();
            resolve(found);
            return true;
          },
          fail: (error) => {
            done();
            reject(error);
          },
        };
        const timer = setTimeout(
          () =>
            waiter.fail(
              new Error(`${name}: no ${what} within ${timeoutMs} ms; its output:\n${tail()}`),
            ),
          timeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    died,
    exited,
    async stop(graceMs = 5_000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `promise`, unless one of the processes dies first: then that process's error. */
export function unlessDied<T>(
  promise: Promise<T>,
  ...processes: readonly NodeProcess[]
): Promise<T> {
  return Promise.race([promise, ...processes.map((p) => p.died)]);
}
