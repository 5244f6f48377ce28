/**
 * RabbitMQ from the Debian package `rabbitmq-server`, started as a loopback-only daemon.
 * Installs the package with apt-get when it is missing and we are root.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { findExecutable, isRoot, run, runOrThrow, runToLog } from './commands.js';
import { onProcessEnd } from './exit-cleanup.js';

const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/lib/rabbitmq/bin'];

/** Keeps AMQP, epmd and the Erlang distribution port on 127.0.0.1 (otherwise epmd and 25672 bind 0.0.0.0). */
const LOOPBACK_ENV = {
  ERL_EPMD_ADDRESS: '127.0.0.1',
  RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
};

const ALTERNATIVES =
  'start Docker (the harness then uses a rabbitmq:4 container), or set RABBITMQ_URL=amqp://user:password@host:5672 to use a running broker';

export interface LocalRabbitMq {
  /** `rabbitmqctl shutdown`, then `epmd -kill`. */
  stop(): Promise<void>;
}

/** Path of rabbitmq-server, installing the Debian package first when it is missing and we are root. */
export async function ensureRabbitMqInstalled(): Promise<string> {
  return (await findExecutable('rabbitmq-server', SBIN_DIRS)) ?? (await installRabbitMq());
}

export async function startLocalRabbitMq(server: string): Promise<LocalRabbitMq> {
  const env = { ...process.env, ...LOOPBACK_ENV };
  const ctl = join(dirname(server), 'rabbitmqctl');
  const epmd = (await findExecutable('epmd', ['/usr/lib/erlang/bin'])) ?? 'epmd';
  if (!isRoot() && userInfo().username !== 'rabbitmq') {
    throw new Error(
      `rabbitmq-server is installed but not running on 127.0.0.1:5672, and only root or the rabbitmq user can start it. Start it (e.g. \`sudo systemctl start rabbitmq-server\`), ${ALTERNATIVES}.`,
    );
  }

  // A pid file left by a killed node would make `rabbitmqctl wait` watch a dead pid.
  const pidFile = `/var/lib/rabbitmq/mnesia/rabbit@${hostname().split('.')[0]}.pid`;
  await rm(pidFile, { force: true });

  const started = await runToLog(server, ['-detached'], { env, logName: 'rabbitmq-server' });
  if (started.code !== 0) {
    throw new Error(
      `\`${server} -detached\` failed (exit ${started.code}); see ${started.logPath} and /var/log/rabbitmq/`,
    );
  }
  const waited = await run(ctl, ['wait', '--timeout', '120', pidFile], { env, timeoutMs: 130_000 });
  if (waited.code !== 0) {
    await run(ctl, ['shutdown'], { env, timeoutMs: 60_000 });
    await run(epmd, ['-kill'], { env, timeoutMs: 10_000 });
    throw new Error(
      `RabbitMQ did not start: \`rabbitmqctl wait\` said:\n${waited.output}\nSee ${started.logPath} and /var/log/rabbitmq/`,
    );
  }

  // Ctrl-C or a crash before stop(): shut the node down anyway (blocking, ~3 s) so no run leaves it behind.
  const unregister = onProcessEnd(() => {
    spawnSync(ctl, ['shutdown'], { env, stdio: 'ignore', timeout: 60_000 });
    spawnSync(epmd, ['-kill'], { env, stdio: 'ignore', timeout: 10_000 });
  });

  return {
    async stop() {
      unregister();
      const shutdown = await run(ctl, ['shutdown'], { env, timeoutMs: 60_000 });
      await run(epmd, ['-kill'], { env, timeoutMs: 10_000 });
      if (shutdown.code !== 0)
        throw new Error(`\`rabbitmqctl shutdown\` failed:\n${shutdown.output}`);
    },
  };
}

async function installRabbitMq(): Promise<string> {
  if (!isRoot() || !(await findExecutable('apt-get'))) {
    throw new Error(
      `RabbitMQ is needed but none is running on 127.0.0.1:5672 and rabbitmq-server is not installed. Install it (\`sudo apt-get install -y rabbitmq-server\` on Debian/Ubuntu), ${ALTERNATIVES}.`,
    );
  }
  process.stderr.write(
    '[brokers] rabbitmq-server is not installed; installing it with apt-get (10-30 s)\n',
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runOrThrow('apt-get', ['update'], { env, timeoutMs: 300_000 });
  await runOrThrow('apt-get', ['install', '-y', 'rabbitmq-server'], { env, timeoutMs: 600_000 });
  const server = await findExecutable('rabbitmq-server', SBIN_DIRS);
  if (!server)
    throw new Error(
      'apt-get installed rabbitmq-server, but the rabbitmq-server command is still not found',
    );
  return server;
}
