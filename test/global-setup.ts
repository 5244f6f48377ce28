/**
 * vitest globalSetup for the `integration` project: starts RabbitMQ, an SQS server and the Pub/Sub
 * emulator once per run, hands their addresses to the tests, and stops them afterwards.
 *
 * In a test:  import { inject } from 'vitest';  inject('rabbitmqUrl'), inject('sqsEndpoint'),
 * inject('pubsubEmulatorHost'). The same values are in process.env (RABBITMQ_URL, SQS_ENDPOINT,
 * PUBSUB_EMULATOR_HOST), plus METADATA_SERVER_DETECTION=none, for code that reads the environment.
 */
import type { TestProject } from 'vitest/node';
import { startBrokers } from '../scripts/brokers/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** e.g. amqp://guest:guest@127.0.0.1:5672 */
    rabbitmqUrl: string;
    /** e.g. http://127.0.0.1:41234, for new SQSClient({ endpoint }) */
    sqsEndpoint: string;
    /** e.g. 127.0.0.1:8085, for new PubSub({ apiEndpoint }) or PUBSUB_EMULATOR_HOST */
    pubsubEmulatorHost: string;
  }
}

const ENV_KEYS = [
  'RABBITMQ_URL',
  'SQS_ENDPOINT',
  'PUBSUB_EMULATOR_HOST',
  'METADATA_SERVER_DETECTION',
] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  process.env['METADATA_SERVER_DETECTION'] = 'none';

  const brokers = await startBrokers(['rabbitmq', 'sqs', 'pubsub']);
  project.provide('rabbitmqUrl', brokers.rabbitmq.url);
  project.provide('sqsEndpoint', brokers.sqs.endpoint);
  project.provide('pubsubEmulatorHost', brokers.pubsub.host);
  // Test workers are started after this and inherit the environment.
  process.env['RABBITMQ_URL'] = brokers.rabbitmq.url;
  process.env['SQS_ENDPOINT'] = brokers.sqs.endpoint;
  process.env['PUBSUB_EMULATOR_HOST'] = brokers.pubsub.host;

  return async () => {
    // Restore, so that a re-run of this setup (watch mode) does not mistake our stopped brokers for overrides.
    for (const key of ENV_KEYS) {
      const value = saved[key];
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
    await brokers.stopAll();
  };
}
