/**
 * RabbitMQ for the tests, first match wins:
 * 1. RABBITMQ_URL is set: use it.
 * 2. Something speaks AMQP on 127.0.0.1:5672 (e.g. left by an earlier run): use it, leave it running.
 * 3. A Docker engine answers: a rabbitmq:4 container.
 * 4. The Debian rabbitmq-server (apt-installed if missing and we are root), loopback only.
 */
import { connect } from 'amqplib';
import { startContainer } from './containers.js';
import { hasDockerEngine } from './docker.js';
import { assertReachable, canConnect, parseUrl } from './net.js';
import { ensureRabbitMqInstalled, startLocalRabbitMq } from './rabbitmq-local.js';
import { noop, once, type BrokerOrigin, type RabbitMqBroker } from './types.js';

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const IMAGE = 'rabbitmq:4';

export async function startRabbitMq(): Promise<RabbitMqBroker> {
  const began = performance.now();
  const broker = (
    url: string,
    origin: BrokerOrigin,
    via: string,
    stop: () => Promise<void>,
  ): RabbitMqBroker => ({
    url,
    address: redact(url),
    origin,
    via,
    startupMs: performance.now() - began,
    stop: once(stop),
  });

  const fromEnv = process.env['RABBITMQ_URL'];
  if (fromEnv) {
    const { host, port } = parseUrl(
      fromEnv,
      'RABBITMQ_URL',
      fromEnv.startsWith('amqps:') ? 5671 : 5672,
    );
    await assertReachable(host, port, 'RABBITMQ_URL', redact(fromEnv));
    return broker(fromEnv, 'env', 'RABBITMQ_URL', noop);
  }
  if (await canConnect('127.0.0.1', 5672)) {
    await assertAmqp(DEFAULT_URL, 'Something is listening on 127.0.0.1:5672');
    return broker(DEFAULT_URL, 'existing', 'already running; left running', noop);
  }
  if (await hasDockerEngine()) {
    const container = await startContainer({
      image: IMAGE,
      port: 5672,
      readyLog: /Server startup complete/,
    });
    return broker(
      `amqp://guest:guest@${container.hostPort}`,
      'docker',
      `testcontainers ${IMAGE}`,
      () => container.stop(),
    );
  }

  const server = await ensureRabbitMqInstalled();
  if (await canConnect('127.0.0.1', 5672)) {
    // the package's install script started the service
    await assertAmqp(DEFAULT_URL, 'RabbitMQ started by its package install');
    return broker(DEFAULT_URL, 'existing', 'started by apt-get install; left running', noop);
  }
  const local = await startLocalRabbitMq(server);
  try {
    await assertAmqp(DEFAULT_URL, 'The rabbitmq-server just started');
  } catch (error) {
    await local.stop().catch(() => {}); // the AMQP error is the one worth reporting
    throw error;
  }
  return broker(DEFAULT_URL, 'local', 'rabbitmq-server -detached', () => local.stop());
}

/** Opens and closes one AMQP connection; throws saying who refused it. */
async function assertAmqp(url: string, who: string): Promise<void> {
  try {
    const connection = await connect(url, { timeout: 10_000 });
    await connection.close();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${who}, but an AMQP connection to ${redact(url)} failed: ${reason}. Free the port or set RABBITMQ_URL.`,
      { cause: error },
    );
  }
}

/** The URL with any password other than guest's masked, for log lines and errors. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password && parsed.password !== 'guest') parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}
