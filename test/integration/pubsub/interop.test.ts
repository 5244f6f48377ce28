/**
 * Interop with the client's built-in tracing (`new PubSub({ enableOpenTelemetryTracing: true })`),
 * both ways, each side in a process of its own (interop.child.ts): that switch is process-wide
 * and never turns off, so a producer and a consumer in one process would prove nothing about
 * what travels in the message.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChildReport, ChildSpan, ChildTask, OutgoingSpec } from './interop.child.js';
import { emulatorClient } from './kit.js';

const CHILD = fileURLToPath(new URL('./interop.child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs one side in its own process; resolves with its report once it has exited. */
async function runChild(task: ChildTask): Promise<ChildReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(task)], {
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
    throw new Error(`${task.role}/${task.tracing} exited with ${code}:\n${stdout}\n${stderr}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as ChildReport;
}

/** A topic with one subscription per consumer, made without any tracing in this process. */
async function createTopic(subscriptions: readonly string[]) {
  const pubsub = emulatorClient();
  const topic = `tracehop-interop-${randomUUID()}`;
  const [created] = await pubsub.createTopic(topic);
  const names = subscriptions.map((s) => `${topic}-${s}`);
  for (const name of names) await created.createSubscription(name);
  return {
    topic,
    subscriptions: names,
    async delete() {
      for (const name of names) await pubsub.subscription(name).delete();
      await created.delete();
      await pubsub.close();
    },
  };
}

/** Producer and consumers together: consumers first (the subscriptions keep what is published). */
async function exchange(
  producer: ChildTask,
  consumers: readonly ChildTask[],
): Promise<[ChildReport, ...ChildReport[]]> {
  const consuming = consumers.map((task) => runChild(task));
  const [produced, ...consumed] = await Promise.all([runChild(producer), ...consuming]);
  return [produced, ...consumed];
}

/** The one span named `name` in trace `traceId`. */
function one(spans: readonly ChildSpan[], name: string, traceId: string): ChildSpan {
  const found = spans.filter((s) => s.name === name && s.traceId === traceId);
  expect(
    found.map((s) => s.name),
    `${name} in ${traceId}`,
  ).toEqual([name]);
  return found[0] as ChildSpan;
}

/** The request span of a message: the root of its trace on the producer. */
function request(produced: ChildReport, label: string): ChildSpan {
  const found = produced.spans.filter((s) => s.name === `POST ${label}`);
  expect(found).toHaveLength(1);
  return found[0] as ChildSpan;
}

const traceparentOf = (span: ChildSpan) => `00-${span.traceId}-${span.spanId}-01`;
const CLIENT = '@google-cloud/pubsub';
const TRACESTATE = 'vendor=abc';
const MESSAGES: readonly OutgoingSpec[] = [
  { label: 'first' },
  { label: 'second' },
  { label: 'with-state', tracestate: TRACESTATE },
];
/** What the client prints for each message whose googclient_traceparent it replaces. */
const CLIENT_REPLACES =
  'googclient_traceparent key set as message attribute, but will be overridden.';

/** Every span of `traceId` in the reports has its parent among them (the remote root aside). */
function expectNoBrokenParents(reports: readonly ChildReport[], traceId: string, root: ChildSpan) {
  const spans = reports.flatMap((r) => r.spans).filter((s) => s.traceId === traceId);
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans) {
    if (span.spanId !== root.spanId)
      expect(ids.has(span.parentSpanId as string), span.name).toBe(true);
  }
}

describe("interop with the client's built-in tracing, each side in its own process", () => {
  let fixture: Awaited<ReturnType<typeof createTopic>> | undefined;
  beforeAll(() => {
    expect(process.env['METADATA_SERVER_DETECTION']).toBe('none');
  });
  afterEach(async () => {
    await fixture?.delete();
    fixture = undefined;
  });

  it("tracehop producer → subscriber with only the client's tracing: its subscribe span is a child of tracehop's create span", async () => {
    const t = (fixture = await createTopic(['builtin']));
    const subscription = t.subscriptions[0] as string;
    const [produced, consumed] = await exchange(
      { role: 'produce', tracing: 'tracehop', topic: t.topic, messages: MESSAGES },
      [{ role: 'consume', tracing: 'builtin', subscription, topic: t.topic, count: 3 }],
    );
    expect(produced.consoleWarnings).toEqual([]);
    expect(produced.diagWarnings).toEqual([]);
    expect(produced.open).toEqual([]);

    for (const { label, tracestate } of MESSAGES) {
      const root = request(produced, label);
      const create = one(produced.spans, `create ${t.topic}`, root.traceId);
      expect([create.scope, create.kind, create.parentSpanId]).toEqual([
        'tracehop',
        SpanKind.PRODUCER,
        root.spanId,
      ]);
      // tracehop wrote its context twice: plain W3C, and as the client's own attributes.
      expect(consumed?.received[label]?.attributes).toEqual({
        traceparent: traceparentOf(create),
        googclient_traceparent: traceparentOf(create),
        ...(tracestate ? { tracestate, googclient_tracestate: tracestate } : {}),
      });

      // What the client records: a CONSUMER `{subscription} subscribe` span whose PARENT is
      // tracehop's create span (no link to it: its links go to its own ack/modack RPC spans,
      // each in a trace of its own), and an INTERNAL `{subscription} process` span under it.
      const subscribe = one(consumed?.spans ?? [], `${subscription} subscribe`, root.traceId);
      expect([subscribe.scope, subscribe.kind, subscribe.parentSpanId]).toEqual([
        CLIENT,
        SpanKind.CONSUMER,
        create.spanId,
      ]);
      const rpcNames = new Map(consumed?.spans.map((s) => [s.spanId, s.name]));
      expect(subscribe.links.map((l) => rpcNames.get(l.spanId)).sort()).toEqual([
        `${subscription} ack`,
        `${subscription} modack`,
      ]);
      expect(subscribe.links.every((l) => l.traceId !== root.traceId)).toBe(true);
      expect(subscribe.traceState).toBe(tracestate);
      const process = one(consumed?.spans ?? [], `${subscription} process`, root.traceId);
      expect([process.kind, process.parentSpanId]).toEqual([SpanKind.INTERNAL, subscribe.spanId]);
      // The client does not make its spans active in the listener.
      expect(consumed?.received[label]?.activeSpanId).toBeUndefined();
      expectNoBrokenParents([produced, consumed as ChildReport], root.traceId, root);
    }
  });

  it("producer with only the client's tracing → tracePubSubHandler: its process span is a child of, and links to, the client's create span", async () => {
    const t = (fixture = await createTopic(['tracehop']));
    const subscription = t.subscriptions[0] as string;
    const [produced, consumed] = await exchange(
      { role: 'produce', tracing: 'builtin', topic: t.topic, messages: MESSAGES },
      [{ role: 'consume', tracing: 'tracehop', subscription, topic: t.topic, count: 3 }],
    );
    expect(consumed?.diagWarnings).toEqual([]);
    expect(consumed?.open).toEqual([]);

    for (const { label, tracestate } of MESSAGES) {
      const root = request(produced, label);
      const clientCreate = one(produced.spans, `${t.topic} create`, root.traceId);
      expect([clientCreate.scope, clientCreate.kind, clientCreate.parentSpanId]).toEqual([
        CLIENT,
        SpanKind.PRODUCER,
        root.spanId,
      ]);
      expect(consumed?.received[label]?.attributes).toEqual({
        googclient_traceparent: traceparentOf(clientCreate),
        ...(tracestate ? { googclient_tracestate: tracestate } : {}),
      });

      const process = one(consumed?.spans ?? [], `subscribe ${subscription}`, root.traceId);
      expect([process.scope, process.kind, process.parentSpanId]).toEqual([
        'tracehop',
        SpanKind.CONSUMER,
        clientCreate.spanId,
      ]);
      expect(process.links).toEqual([{ traceId: root.traceId, spanId: clientCreate.spanId }]);
      expect(process.traceState).toBe(tracestate);
      expect(consumed?.received[label]?.activeSpanId).toBe(process.spanId);
      expectNoBrokenParents([produced, consumed as ChildReport], root.traceId, root);
    }
  });

  it('both tracings on in the producer → a tracehop subscriber and a built-in subscriber each continue the one trace', async () => {
    const t = (fixture = await createTopic(['tracehop', 'builtin']));
    const [mineSub, clientSub] = t.subscriptions as [string, string];
    const [produced, mine, clients] = await exchange(
      { role: 'produce', tracing: 'both', topic: t.topic, messages: MESSAGES },
      [
        { role: 'consume', tracing: 'tracehop', subscription: mineSub, topic: t.topic, count: 3 },
        { role: 'consume', tracing: 'builtin', subscription: clientSub, topic: t.topic, count: 3 },
      ],
    );
    // traceTopic said once that both trace. The client replaced tracehop's googclient_traceparent
    // copy of the first message, warning on the console; having seen that, tracehop wrote no
    // more copies, so the other two messages drew no warning.
    expect(produced.diagWarnings.filter((w) => w.includes('built-in tracing is on'))).toHaveLength(
      1,
    );
    expect(produced.consoleWarnings).toEqual([CLIENT_REPLACES]);
    expect(produced.open).toEqual([]);

    for (const { label, tracestate } of MESSAGES) {
      const root = request(produced, label);
      const create = one(produced.spans, `create ${t.topic}`, root.traceId);
      const clientCreate = one(produced.spans, `${t.topic} create`, root.traceId);
      // The client's create span runs inside tracehop's: its child, in the same trace.
      expect(create.parentSpanId).toBe(root.spanId);
      expect([clientCreate.scope, clientCreate.parentSpanId]).toEqual([CLIENT, create.spanId]);

      // One message, seen alike by both subscriptions: the plain fields are tracehop's create
      // span, the googclient_ ones the client's create span (its child).
      const attributes = mine?.received[label]?.attributes;
      expect(attributes).toEqual({
        traceparent: traceparentOf(create),
        googclient_traceparent: traceparentOf(clientCreate),
        ...(tracestate ? { tracestate, googclient_tracestate: tracestate } : {}),
      });
      expect(clients?.received[label]?.attributes).toEqual(attributes);

      // tracehop's subscriber reads the plain traceparent: child of (and link to) tracehop's create.
      const process = one(mine?.spans ?? [], `subscribe ${mineSub}`, root.traceId);
      expect([process.kind, process.parentSpanId]).toEqual([SpanKind.CONSUMER, create.spanId]);
      expect(process.links).toEqual([{ traceId: root.traceId, spanId: create.spanId }]);
      expect(mine?.received[label]?.activeSpanId).toBe(process.spanId);
      // The built-in subscriber reads googclient_traceparent: child of the client's create span.
      const subscribe = one(clients?.spans ?? [], `${clientSub} subscribe`, root.traceId);
      expect([subscribe.kind, subscribe.parentSpanId]).toEqual([
        SpanKind.CONSUMER,
        clientCreate.spanId,
      ]);
      expect([process.traceState, subscribe.traceState]).toEqual([tracestate, tracestate]);
      expectNoBrokenParents(
        [produced, mine as ChildReport, clients as ChildReport],
        root.traceId,
        root,
      );
    }
  });
});
