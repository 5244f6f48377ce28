import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import type { ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { deferred, only, openConnection, uniqueName } from './kit.js';
import type { ChildReport } from './official-app.js';

const tracing = setupTestTracing();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const script = fileURLToPath(new URL('./official-app.ts', import.meta.url));

/** Runs the officially instrumented app; `ready` resolves when it says so. */
function runOfficialApp(mode: 'publish' | 'consume' | 'both', queue: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, mode, inject('rabbitmqUrl'), queue],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const ready = deferred();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) ready.resolve();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const report = new Promise<ChildReport>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`official app exited with ${code}:\n${stderr}\n${stdout}`));
      } else {
        resolve(JSON.parse(last) as ChildReport);
      }
    });
  });
  return { ready: ready.promise, report };
}

describe('interop with @opentelemetry/instrumentation-amqplib', () => {
  it('a message published by an officially instrumented app is processed by tracehop under its publish span', async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('from-official');
    await channel.assertQueue(queue, { exclusive: true });
    const handled = deferred();
    await channel.consume(queue, (message) => {
      if (message === null) return;
      channel.ack(message);
      handled.resolve();
    });
    const official = runOfficialApp('publish', queue);
    const theirs = (await official.report).spans;
    await handled.promise;
    const publish = theirs.find((s) => s.name === 'publish <default>');
    expect(publish, JSON.stringify(theirs)).toBeDefined();
    expect(publish?.kind).toBe(SpanKind.PRODUCER);
    const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
    const process = only(spans, `process ${queue}`);
    expect(process.spanContext().traceId).toBe(publish?.traceId);
    expect(process.parentSpanContext?.spanId).toBe(publish?.spanId);
    expect(process.links.map((l) => l.context.spanId)).toEqual([publish?.spanId]);
    await channel.close();
  });

  it("a message published by tracehop is processed by the officially instrumented app under tracehop's send span", async () => {
    const channel = traceChannel(await connection.createChannel());
    const queue = uniqueName('to-official');
    await channel.assertQueue(queue);
    const official = runOfficialApp('consume', queue);
    await official.ready;
    channel.sendToQueue(queue, Buffer.from('from tracehop'));
    const theirs = (await official.report).spans;
    const send = only(tracing.spans(), `send ${queue}`);
    const process = theirs.find((s) => s.name === `${queue} process`);
    expect(process, JSON.stringify(theirs)).toBeDefined();
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.traceId).toBe(send.spanContext().traceId);
    expect(process?.parentSpanId).toBe(send.spanContext().spanId);
    const work = theirs.find((s) => s.name === 'official handler work');
    expect(work?.parentSpanId).toBe(process?.spanId);
    await channel.deleteQueue(queue);
    await channel.close();
  });

  it('an app with both warns once how to turn the official one off; its publish span joins the trace', async () => {
    const channel = await connection.createChannel();
    const queue = uniqueName('both');
    await channel.assertQueue(queue, { exclusive: true });
    const { spans, warnings } = await runOfficialApp('both', queue).report;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      "getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-amqplib': { enabled: false } })",
    );
    const send = spans.find((s) => s.name === `send ${queue}`);
    const publish = spans.find((s) => s.name === 'publish <default>');
    expect(publish?.parentSpanId).toBe(send?.spanId);
    expect(publish?.traceId).toBe(send?.traceId);
    await channel.close();
  });
});
