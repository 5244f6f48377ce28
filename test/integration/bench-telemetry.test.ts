/**
 * The benchmark's `sdk-floor` is compared with tracehop "at equal telemetry": this runs
 * `bench/telemetry.ts` against the test run's brokers and holds it to that — on every broker,
 * the inline SDK code records exactly the spans, kinds, parents, links, attributes and events
 * tracehop records (the script exits with 1 when it does not).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runTelemetry(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/telemetry.ts', 'amqp', 'sqs', 'pubsub', '--messages', '60'],
      {
        cwd: root,
        env: {
          ...process.env,
          RABBITMQ_URL: inject('rabbitmqUrl'),
          SQS_ENDPOINT: inject('sqsEndpoint'),
          PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost'),
          METADATA_SERVER_DETECTION: 'none',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('the SDK floor records what tracehop records, on RabbitMQ, SQS and Pub/Sub', async () => {
  const { code, output } = await runTelemetry();
  expect(code, output).toBe(0);
  const same = output.match(
    /^sdk-floor: the same spans, attributes, links and events as tracehop$/gm,
  );
  expect(same, output).toHaveLength(3);
}, 120_000);
