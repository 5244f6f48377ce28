/**
 * One registry per process: tracehop loaded twice in one process — its CommonJS build with
 * `require` and its ES module build with `import` — works as one. The test compiles both
 * builds into a temporary directory, then a child process (dual-load.child.mjs) loads both,
 * mixes them on the same messages on the real RabbitMQ and SQS servers, and prints what it
 * saw as one JSON line.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./dual-load.child.mjs', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// Under the repository's node_modules: git ignores it, and the built copies resolve their
// peer dependencies (@opentelemetry/api, …) from the repository's node_modules, as an
// installed package would.
const BUILD = path.join(
  ROOT,
  'node_modules',
  '.cache',
  `tracehop-dual-load-${process.pid}-${randomUUID().slice(0, 8)}`,
);
/** Entry points the child loads, relative to each build's root (rootDir is the repository). */
const ENTRIES = ['src/index.js', 'adapters/amqp/index.js', 'adapters/sqs/index.js'];

interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  messageId?: string;
  timedOut: boolean;
  events: string[];
  lastEventMs?: number;
  endMs: number;
}

interface SqsRound {
  queueName: string;
  perMessage: { messageId: string; openBefore: boolean; endedAfter: boolean }[];
  /** The span active as each DeleteMessage request left the client. */
  deletesActive: (string | null)[];
  processSpans: ChildSpan[];
  processStarted: number;
}

interface DualLoadResult {
  copies: {
    cjsModuleLoadedAsCommonJs: boolean;
    sameTraceChannel: boolean;
    sameTraceAmqpHandler: boolean;
    sameInstrumentSqsClient: boolean;
    sameTraceSqsHandler: boolean;
    sameProcessScope: boolean;
    sameSettleIndex: boolean;
    sameTimedOutAttribute: boolean;
    registryKeys: string[];
  };
  registryEntries: string[];
  reported: string[];
  amqp: {
    queue: string;
    esmTraceChannelReturnsCjsWrapper: boolean;
    openBeforeAck: number;
    processStarted: number;
    processSpans: ChildSpan[];
    openAfter: number;
    sends: ChildSpan[];
    activeInHandler: (string | null)[];
    late: { process: ChildSpan; ack: ChildSpan & { late: boolean } };
  };
  reports: { copy: 'cjs' | 'esm'; header: string; warningsSoFar: number }[];
  sqs: SqsRound;
  visibilityCross: SqsRound;
  visibilitySingle: SqsRound;
  processSpansStarted: number;
  openSpans: string[];
  warnings: string[];
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      RABBITMQ_URL: inject('rabbitmqUrl'),
      SQS_ENDPOINT: inject('sqsEndpoint'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Compiles the ESM and CommonJS builds into BUILD, as scripts/build.mjs does into dist/. */
async function build(): Promise<void> {
  mkdirSync(BUILD, { recursive: true });
  const builds = await Promise.all([
    run([TSC, '-p', 'tsconfig.build.json', '--outDir', path.join(BUILD, 'esm')]),
    run([TSC, '-p', 'tsconfig.build.cjs.json', '--outDir', path.join(BUILD, 'cjs')]),
  ]);
  const missing = ['esm', 'cjs'].flatMap((format) =>
    ENTRIES.map((entry) => path.join(BUILD, format, entry)).filter((file) => !existsSync(file)),
  );
  const failed = builds.filter((result) => result.code !== 0);
  if (missing.length > 0) {
    throw new Error(
      `the build did not emit ${missing.join(', ')}:\n${failed.map((r) => r.stdout + r.stderr).join('\n')}`,
    );
  }
  // Type errors elsewhere in the tree (work in progress) still emit these files: say so, go on.
  for (const result of failed) console.warn(`tsc reported errors:\n${result.stdout}`);
  writeFileSync(path.join(BUILD, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
  // Under node_modules the repository's "type": "module" no longer applies: say it here.
  writeFileSync(path.join(BUILD, 'esm', 'package.json'), '{ "type": "module" }\n');
}

let result: DualLoadResult;

beforeAll(async () => {
  await build();
  const child = await run([CHILD, BUILD]);
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (child.code !== 0 || line === undefined) {
    throw new Error(`dual-load child exited with ${child.code}:\n${child.stdout}\n${child.stderr}`);
  }
  result = JSON.parse(line.slice('RESULT '.length)) as DualLoadResult;
}, 120_000);

afterAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
});

const ids = (spans: readonly ChildSpan[]) => spans.map((span) => span.spanId);

describe('tracehop loaded as CommonJS and as ESM in one process', () => {
  it('is two module instances sharing one registry', () => {
    const { copies, registryEntries } = result;
    // The negative: really two copies, not one module reached twice.
    expect(copies.cjsModuleLoadedAsCommonJs).toBe(true);
    expect(copies.sameTraceChannel).toBe(false);
    expect(copies.sameTraceAmqpHandler).toBe(false);
    expect(copies.sameInstrumentSqsClient).toBe(false);
    expect(copies.sameTraceSqsHandler).toBe(false);
    expect(copies.sameProcessScope).toBe(false);
    expect(copies.sameSettleIndex).toBe(false);
    expect(copies.sameTimedOutAttribute).toBe(true);
    // …and one registry between them.
    expect(copies.registryKeys).toEqual(['tracehop.registry.v1']);
    expect(registryEntries).toEqual([
      'amqp.channelStates',
      'amqp.tracedHandlers',
      'amqp.wrappers',
      'sqs.byReceiptHandle',
      'sqs.queueUrlOfMessage',
    ]);
    console.log(
      `process spans started: ${result.processSpansStarted}; open at the end: ${result.openSpans.length}`,
    );
    expect(result.openSpans).toEqual([]);
    // 3 + 1 (RabbitMQ) + 4 (reports) + 3 + 1 + 1 (SQS): none traced twice
    expect(result.processSpansStarted).toBe(13);
  });

  it('RabbitMQ: the ESM decorator on the CommonJS wrapper traces each message once, acks through the wrapper recorded', () => {
    const { amqp } = result;
    // The ESM copy knows the CommonJS copy's wrapper.
    expect(amqp.esmTraceChannelReturnsCjsWrapper).toBe(true);
    expect(amqp.processStarted).toBe(3);
    expect(amqp.processSpans).toHaveLength(3);
    expect(amqp.openAfter).toBe(0);
    // The handlers returned without acking: the spans waited for the acks…
    expect(amqp.openBeforeAck).toBe(3);
    const sendOf = new Map(amqp.sends.map((send) => [send.messageId, send]));
    for (const span of amqp.processSpans) {
      // …which were recorded on them, ending them.
      expect(span.events).toEqual(['ack']);
      expect(span.timedOut).toBe(false);
      expect(span.endMs).toBeGreaterThanOrEqual(span.lastEventMs ?? Infinity);
      const send = sendOf.get(span.messageId);
      expect(span.parentSpanId, `process ${span.messageId} under its send`).toBe(send?.spanId);
      expect(span.traceId).toBe(send?.traceId);
    }
    expect([...amqp.activeInHandler].sort()).toEqual(ids(amqp.processSpans).sort());

    // A span the ESM decorator ended by its settle timeout; the ack through the CommonJS
    // wrapper comes later and is recorded as a late settle span under it.
    const { process: timedOut, ack } = amqp.late;
    expect(timedOut.timedOut).toBe(true);
    expect(timedOut.events).toEqual([]);
    expect(ack.late).toBe(true);
    expect(ack.parentSpanId).toBe(timedOut.spanId);
    expect(ack.traceId).toBe(timedOut.traceId);
  });

  it('SQS: a handler decorated by the ESM copy, its message deleted through a client instrumented by the CommonJS copy: the delete is recorded and ends the span', () => {
    const { sqs } = result;
    expect(sqs.processStarted).toBe(3);
    expect(sqs.processSpans).toHaveLength(3);
    for (const step of sqs.perMessage) {
      // open after the handler returned the message, ended once its DeleteMessage returned
      expect(step, step.messageId).toMatchObject({ openBefore: true, endedAfter: true });
    }
    for (const span of sqs.processSpans) {
      expect(span.events).toEqual(['delete']);
      expect(span.timedOut).toBe(false);
      expect(span.endMs).toBeGreaterThanOrEqual(span.lastEventMs ?? Infinity);
      // the context went through SQS: each process span has its send span as parent
      expect(span.parentSpanId).toBeDefined();
    }
  });

  it('a problem is reported once per process, whichever copy meets it first', () => {
    // Each copy meets each malformed header once; the first copy to meet it reports it.
    expect(result.reports).toEqual([
      { copy: 'cjs', header: 'traceparent', warningsSoFar: 1 },
      { copy: 'esm', header: 'traceparent', warningsSoFar: 1 },
      { copy: 'esm', header: 'tracestate', warningsSoFar: 2 },
      { copy: 'cjs', header: 'tracestate', warningsSoFar: 2 },
    ]);
    expect(result.warnings).toEqual([
      "tracehop: ignored a 'traceparent' header of type object",
      "tracehop: ignored a 'tracestate' header of type object",
    ]);
    expect(result.reported).toEqual(['type:traceparent', 'type:tracestate']);
  });

  it('SQS, one copy: a visibility change while the handler runs is an event, the delete after it ends the span (control)', () => {
    const { visibilitySingle: single } = result;
    const [span] = single.processSpans;
    expect(span?.events).toEqual(['change_visibility', 'delete']);
    expect(single.perMessage).toMatchObject([{ openBefore: true, endedAfter: true }]);
    expect(single.deletesActive).toEqual([span?.spanId]);
  });

  it('SQS, two copies: the same visibility change is an event, the delete after it ends the span', () => {
    const { visibilityCross: cross } = result;
    const [span] = cross.processSpans;
    expect(span?.events).toEqual(['change_visibility', 'delete']);
    expect(cross.perMessage).toMatchObject([{ openBefore: true, endedAfter: true }]);
    expect(cross.deletesActive).toEqual([span?.spanId]);
    expect(result.sqs.deletesActive).toEqual(ids(result.sqs.processSpans));
  });
});
