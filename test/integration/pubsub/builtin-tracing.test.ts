import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { describe, expect, inject, it } from 'vitest';
import type { ChildResult, ChildSpan } from './builtin-tracing.child.js';

const CHILD = fileURLToPath(new URL('./builtin-tracing.child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the child with the client's built-in tracing on and returns what it printed. */
async function runChild(): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, PUBSUB_EMULATOR_HOST: inject('pubsubEmulatorHost') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined) {
    throw new Error(`child exited with ${code}:\n${stdout}\n${stderr}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as ChildResult;
}

function one(spans: readonly ChildSpan[], name: string): ChildSpan {
  const found = spans.filter((s) => s.name === name);
  expect(
    found.map((s) => s.name),
    name,
  ).toEqual([name]);
  return found[0] as ChildSpan;
}

const traceparentOf = (span: ChildSpan) => `00-${span.traceId}-${span.spanId}-01`;

describe("with the client's built-in tracing (enableOpenTelemetryTracing) on as well", () => {
  it('tracehop and the client trace into one trace: no broken parents, no injection that changes it', async () => {
    const { spans, seen, open, topicId, subscriptionId, warnings, consoleWarnings } =
      await runChild();
    // traceTopic noticed the client's own tracing and said so once, with the switch to turn it off.
    expect(warnings.filter((w) => w.includes('enableOpenTelemetryTracing: false'))).toHaveLength(1);
    const mine = spans.filter((s) => s.scope === 'tracehop');
    const clients = spans.filter((s) => s.scope === '@google-cloud/pubsub');

    // --- the message published through traceTopic ---------------------------------------
    const request = one(spans, 'POST /both');
    const handled = one(spans, 'handle both');
    const traceOf = (s: ChildSpan) => s.traceId === request.traceId;
    const create = one(mine.filter(traceOf), `create ${topicId}`);
    const process = one(mine.filter(traceOf), `subscribe ${subscriptionId}`);
    const clientCreate = one(clients.filter(traceOf), `${topicId} create`);
    const clientSubscribe = one(clients.filter(traceOf), `${subscriptionId} subscribe`);

    // tracehop's traceparent is its create span; the client's own attribute is the client's
    // create span, which is a child of tracehop's (it runs in its context): the client replaced
    // the googclient_traceparent copy tracehop wrote, so the two stay one consistent trace.
    expect(seen['both']?.attributes['traceparent']).toBe(traceparentOf(create));
    expect(seen['both']?.attributes['googclient_traceparent']).toBe(traceparentOf(clientCreate));
    expect(Object.keys(seen['both']?.attributes ?? {}).sort()).toEqual([
      'googclient_traceparent',
      'traceparent',
    ]);
    expect(create.parentSpanId).toBe(request.spanId);
    expect(clientCreate.parentSpanId).toBe(create.spanId);
    // tracehop's process span continues tracehop's create span and is active in the handler;
    // the client's subscribe span continues the client's create span.
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanId).toBe(create.spanId);
    expect(seen['both']?.activeSpanId).toBe(process.spanId);
    expect(handled.parentSpanId).toBe(process.spanId);
    expect(clientSubscribe.parentSpanId).toBe(clientCreate.spanId);

    // No broken parents: every parent in the request's trace was exported.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const span of spans.filter(traceOf)) {
      if (span !== request) expect(ids.has(span.parentSpanId as string), span.name).toBe(true);
    }

    // --- the message published by the raw client (its tracing only) ----------------------
    const clientOnlyRequest = one(spans, 'POST /client-only');
    const onClientTrace = (s: ChildSpan) => s.traceId === clientOnlyRequest.traceId;
    const onlyClientCreate = one(clients.filter(onClientTrace), `${topicId} create`);
    const onlyProcess = one(mine.filter(onClientTrace), `subscribe ${subscriptionId}`);
    expect(seen['client-only']?.attributes['traceparent']).toBeUndefined();
    expect(seen['client-only']?.attributes['googclient_traceparent']).toBe(
      traceparentOf(onlyClientCreate),
    );
    // tracehop read googclient_traceparent: its process span continues the client's create span.
    expect(onlyProcess.parentSpanId).toBe(onlyClientCreate.spanId);
    expect(seen['client-only']?.activeSpanId).toBe(onlyProcess.spanId);
    expect(one(spans, 'handle client-only').parentSpanId).toBe(onlyProcess.spanId);
    for (const span of spans.filter(onClientTrace)) {
      if (span !== clientOnlyRequest) {
        expect(ids.has(span.parentSpanId as string), span.name).toBe(true);
      }
    }

    // --- the message published through traceTopic after that -----------------------------
    // tracehop wrote a googclient_traceparent copy on `both`; the client replaced it with its
    // own, warning on the console. From then on tracehop knows the client's tracing is on and
    // writes no copy: `both-again` carries the same pair of contexts, with no further warning.
    const againRequest = one(spans, 'POST /both-again');
    const onAgain = (s: ChildSpan) => s.traceId === againRequest.traceId;
    const againCreate = one(mine.filter(onAgain), `create ${topicId}`);
    const againClientCreate = one(clients.filter(onAgain), `${topicId} create`);
    expect(againClientCreate.parentSpanId).toBe(againCreate.spanId);
    expect(seen['both-again']?.attributes).toEqual({
      traceparent: traceparentOf(againCreate),
      googclient_traceparent: traceparentOf(againClientCreate),
    });
    expect(one(mine.filter(onAgain), `subscribe ${subscriptionId}`).parentSpanId).toBe(
      againCreate.spanId,
    );
    expect(one(clients.filter(onAgain), `${subscriptionId} subscribe`).parentSpanId).toBe(
      againClientCreate.spanId,
    );
    expect(consoleWarnings).toEqual([
      'googclient_traceparent key set as message attribute, but will be overridden.',
    ]);

    // Every span tracehop started has ended. (The client 6.3.0 leaves its own
    // 'publisher batching' spans open; that is the client's, not tracehop's.)
    expect(open.filter((s) => s.scope !== '@google-cloud/pubsub')).toEqual([]);
  });
});
