import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { onProcessEnd } from './exit-cleanup.js';
import { openLog } from './logs.js';

export interface ProcessGroup {
  readonly pid: number;
  /** File receiving the process's stdout and stderr. */
  readonly logPath: string;
  /** Rejects if the process exits or cannot start; race it against a readiness check. */
  readonly exited: Promise<never>;
  /** SIGTERM to the whole group, SIGKILL after 5 s; resolves once the leader has exited. */
  stop(): Promise<void>;
}

/**
 * Spawns a server as the leader of a new process group with its output in <repo>/.brokers/<logName>.log.
 * The group is killed on stop(), and also when this Node process ends without calling stop().
 */
export function spawnProcessGroup(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logName: string },
): ProcessGroup {
  const log = openLog(options.logName);
  const child = spawn(file, args, {
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  });
  closeSync(log.fd); // the child holds its own copy
  child.unref(); // a script that forgets stop() can still exit; onProcessEnd then kills the group

  const ended = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve(signal ? `signal ${signal}` : `exit code ${code}`),
    );
    child.once('error', (error) => resolve(error.message));
  });
  const exited = ended.then((how): never => {
    throw new Error(`${file} stopped (${how}); see ${log.path}`);
  });
  exited.catch(() => {}); // only meaningful while starting; callers race it

  const pid = child.pid ?? -1;
  const killGroup = (signal: NodeJS.Signals): void => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const unregister = onProcessEnd(() => killGroup('SIGKILL'));

  return {
    pid,
    logPath: log.path,
    exited,
    async stop() {
      unregister();
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 5_000);
      await ended;
      clearTimeout(timer);
      killGroup('SIGKILL'); // anything the leader left behind in its group
    },
  };
}
