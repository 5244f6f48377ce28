/**
 * Run by dual-load.test.ts in a child process: loads tracehop twice in one process — the
 * CommonJS build with `require` and the ES module build with `import`, both compiled by the
 * test into a temporary directory — and makes the two copies work on the same messages, on
 * the real RabbitMQ and SQS servers:
 *
 *   node dual-load.child.mjs <build dir with cjs/ and esm/>
 *   (env: RABBITMQ_URL, SQS_ENDPOINT)
 *
 * Prints one line `RESULT {json}` (see DualLoadResult in dual-load.test.ts) and exits 0, or
 * exits non-zero with the error on stderr. Waits on events only; the one timer is a deadline
 * that fails the run.
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import amqp from 'amqplib';

const DEADLINE_MS = 90_000;
const deadline = setTimeout(() => {
  process.stderr.write(`dual-load child: no result within ${DEADLINE_MS} ms\n`);
  process.exit(3);
}, DEADLINE_MS);
deadline.unref();

const buildDir = process.argv[2];
const rabbitmqUrl = process.env['RABBITMQ_URL'];
const sqsEndpoint = process.env['SQS_ENDPOINT'];
if (!buildDir || !rabbitmqUrl || !sqsEndpoint) {
  throw new Error('usage: RABBITMQ_URL=… SQS_ENDPOINT=… node dual-load.child.mjs <build dir>');
}

// ------------------------------------------------------------------ tracing (once, globally)

const exporter = new InMemorySpanExporter();
/** Spans started and not ended yet, how many started per name, and waiters woken at each span end. */
const open = new Set();
const started = new Map();
const waiters = new Set();
const tracker = {
  onStart: (span) => {
    open.add(span);
    started.set(span.name, (started.get(span.name) ?? 0) + 1);
  },
  onEnd: (span) => {
    open.delete(span);
    for (const waiter of [...waiters]) {
      if (waiter.predicate()) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter), tracker],
});
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);

/** Resolves once `predicate` holds, checked now and at every span end. */
function spansUntil(predicate) {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => waiters.add({ predicate, resolve }));
}

const warnings = [];
diag.setLogger(
  {
    error: () => undefined,
    warn: (message) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
);

// ------------------------------------------------------------------ the two copies

const require = createRequire(import.meta.url);
const cjsPath = (subpath) => path.join(buildDir, 'cjs', subpath, 'index.js');
const esmUrl = (subpath) => pathToFileURL(path.join(buildDir, 'esm', subpath, 'index.js')).href;

const cjs = {
  core: require(cjsPath('src')),
  amqp: require(cjsPath('adapters/amqp')),
  sqs: require(cjsPath('adapters/sqs')),
};
const esm = {
  core: await import(esmUrl('src')),
  amqp: await import(esmUrl('adapters/amqp')),
  sqs: await import(esmUrl('adapters/sqs')),
};

const TIMED_OUT = esm.core.ATTR_PROCESS_TIMED_OUT;
const REGISTRY_KEY = Symbol.for('tracehop.registry.v1');

const copies = {
  cjsModuleLoadedAsCommonJs: Object.keys(require.cache).some((file) =>
    file.startsWith(path.join(buildDir, 'cjs')),
  ),
  sameTraceChannel: cjs.amqp.traceChannel === esm.amqp.traceChannel,
  sameTraceAmqpHandler: cjs.amqp.traceAmqpHandler === esm.amqp.traceAmqpHandler,
  sameInstrumentSqsClient: cjs.sqs.instrumentSqsClient === esm.sqs.instrumentSqsClient,
  sameTraceSqsHandler: cjs.sqs.traceSqsHandler === esm.sqs.traceSqsHandler,
  sameProcessScope: cjs.core.ProcessScope === esm.core.ProcessScope,
  sameSettleIndex: cjs.core.SettleIndex === esm.core.SettleIndex,
  sameTimedOutAttribute: cjs.core.ATTR_PROCESS_TIMED_OUT === esm.core.ATTR_PROCESS_TIMED_OUT,
  registryKeys: Object.getOwnPropertySymbols(globalThis)
    .map((symbol) => symbol.description ?? '')
    .filter((name) => name.startsWith('tracehop.')),
};

// ------------------------------------------------------------------ span summaries

function summarize(span) {
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    messageId: span.attributes['messaging.message.id'],
    timedOut: span.attributes[TIMED_OUT] === true,
    events: span.events.map((event) => event.name),
    lastEventMs: span.events.length === 0 ? undefined : hrMs(span.events.at(-1).time),
    endMs: hrMs(span.endTime),
  };
}

const hrMs = ([seconds, nanos]) => seconds * 1000 + nanos / 1e6;
const ended = (name) => exporter.getFinishedSpans().filter((span) => span.name === name);
const openNamed = (name) => [...open].filter((span) => span.name === name);

// ------------------------------------------------------------------ (a) RabbitMQ

async function rabbitmq(connection) {
  const raw = await connection.createChannel();
  const wrapper = cjs.amqp.traceChannel(raw);
  const producer = esm.amqp.traceChannel(await connection.createChannel());
  const queue = `tracehop-dual-${randomUUID()}`;
  await wrapper.assertQueue(queue, { exclusive: true });

  const received = [];
  let allReceived;
  const three = new Promise((resolve) => (allReceived = resolve));
  // The ESM copy's decorator, bound to the CommonJS copy's wrapper, passed to that wrapper's consume.
  const handler = esm.amqp.traceAmqpHandler(
    (message) => {
      if (message === null) return;
      received.push({ message, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
      if (received.length === 3) allReceived();
    },
    { channel: wrapper, queue },
  );
  await wrapper.consume(queue, handler);
  for (let i = 0; i < 3; i++) {
    producer.sendToQueue(queue, Buffer.from(`m${i}`), { messageId: `m${i}` });
  }
  await three;
  const processName = `process ${queue}`;
  // Every handler has returned; the spans wait for the acks.
  const openBeforeAck = openNamed(processName).length;
  for (const { message } of received) wrapper.ack(message);
  await spansUntil(() => ended(processName).length >= 3);
  // A round trip to the broker: anything else the deliveries would start has started by now.
  await wrapper.checkQueue(queue);
  const processes = ended(processName).map(summarize);
  const late = await lateAck(wrapper);
  const result = {
    queue,
    late,
    esmTraceChannelReturnsCjsWrapper: esm.amqp.traceChannel(wrapper) === wrapper,
    openBeforeAck,
    processStarted: started.get(processName) ?? 0,
    processSpans: processes,
    openAfter: openNamed(processName).length,
    sends: ended(`send ${queue}`).map(summarize),
    activeInHandler: received.map((entry) => entry.activeSpanId),
  };
  await producer.close();
  await wrapper.close();
  return result;
}

/**
 * A message the ESM decorator's span gave up on (settle timeout), acked afterwards through
 * the CommonJS wrapper: the late ack finds what the timed-out span left in the shared index
 * and is recorded as a late settle span under it.
 */
async function lateAck(wrapper) {
  const queue = `tracehop-dual-late-${randomUUID()}`;
  await wrapper.assertQueue(queue, { exclusive: true });
  let delivered;
  const arrived = new Promise((resolve) => (delivered = resolve));
  await wrapper.consume(
    queue,
    esm.amqp.traceAmqpHandler((message) => message !== null && delivered(message), {
      channel: wrapper,
      queue,
      settleTimeoutMs: 50,
    }),
  );
  wrapper.sendToQueue(queue, Buffer.from('late'), { messageId: 'late' });
  const message = await arrived;
  const processName = `process ${queue}`;
  await spansUntil(() => ended(processName).length === 1);
  const ackName = `ack ${queue}`;
  wrapper.ack(message);
  await spansUntil(() => ended(ackName).length === 1);
  const [processSpan] = ended(processName);
  const [ackSpan] = ended(ackName);
  return {
    process: summarize(processSpan),
    ack: { ...summarize(ackSpan), late: ackSpan.attributes[esm.core.ATTR_SETTLE_LATE] === true },
  };
}

// ------------------------------------------------------------------ (c) one report per process

/**
 * Four messages with malformed trace headers (an AMQP table where a string belongs), each
 * processed by one copy only: the first of each kind by one copy, the second by the other.
 */
async function reportedOnce(connection) {
  const raw = await connection.createChannel();
  const wrapper = cjs.amqp.traceChannel(raw);
  const plain = await connection.createChannel();
  const cjsQueue = `tracehop-dual-cjs-${randomUUID()}`;
  const esmQueue = `tracehop-dual-esm-${randomUUID()}`;
  await wrapper.assertQueue(cjsQueue, { exclusive: true });
  await wrapper.assertQueue(esmQueue, { exclusive: true });
  // The CommonJS copy traces this one through its wrapper's consume…
  await wrapper.consume(cjsQueue, (message) => {
    if (message !== null) wrapper.ack(message);
  });
  // …and the ESM copy this one, through its decorator on the bare channel.
  await raw.consume(
    esmQueue,
    esm.amqp.traceAmqpHandler(() => undefined, { channel: raw, queue: esmQueue, autoSettle: true }),
  );

  const valid = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
  const steps = [
    { copy: 'cjs', queue: cjsQueue, headers: { traceparent: { not: 'a string' } } },
    { copy: 'esm', queue: esmQueue, headers: { traceparent: { not: 'a string' } } },
    { copy: 'esm', queue: esmQueue, headers: { traceparent: valid, tracestate: { x: 1 } } },
    { copy: 'cjs', queue: cjsQueue, headers: { traceparent: valid, tracestate: { x: 1 } } },
  ];
  const log = [];
  for (const step of steps) {
    const name = `process ${step.queue}`;
    const before = ended(name).length;
    plain.sendToQueue(step.queue, Buffer.from(step.copy), { headers: step.headers });
    await spansUntil(() => ended(name).length > before);
    log.push({
      copy: step.copy,
      header: Object.keys(step.headers).at(-1),
      warningsSoFar: warnings.filter((w) => w.includes('header of type object')).length,
    });
  }
  await plain.close();
  await wrapper.close();
  return log;
}

// ------------------------------------------------------------------ (b) SQS

function sqsClient() {
  return new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/**
 * Records the span active when each DeleteMessage request leaves the client, until `stop()`.
 */
function watchDeletes(client) {
  const active = [];
  const name = `watchDeletes-${randomUUID()}`;
  client.middlewareStack.add(
    (next) => (args) => {
      const target = args.request?.headers?.['x-amz-target'] ?? '';
      if (target.endsWith('.DeleteMessage')) {
        active.push(trace.getActiveSpan()?.spanContext().spanId);
      }
      return next(args);
    },
    { step: 'build', name },
  );
  return { active, stop: () => client.middlewareStack.remove(name) };
}

async function receiveAll(client, queueUrl, count) {
  const messages = [];
  while (messages.length < count) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
      }),
    );
    messages.push(...Messages);
  }
  return messages;
}

/**
 * Sends `count` messages through `client`, receives them through it, hands each to
 * `handle` (which returns the message), then deletes each through `client`, noting whether
 * its `process` span was open just before the delete and ended once it returned.
 */
async function sqsRound(setup, client, handlerCopy, count, changeVisibility) {
  const { QueueUrl: queueUrl } = await setup.send(
    new CreateQueueCommand({ QueueName: `tracehop-dual-${randomUUID().slice(0, 8)}` }),
  );
  const queueName = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
  const processName = `process ${queueName}`;
  const deletes = watchDeletes(client);
  try {
    for (let i = 0; i < count; i++) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}` }));
    }
    const messages = await receiveAll(client, queueUrl, count);
    const handle = handlerCopy.traceSqsHandler(async (message) => {
      if (changeVisibility) {
        // Extends the lease while the handler runs: an event, not a settle.
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 30,
          }),
        );
      }
      return message;
    });
    const perMessage = [];
    for (const message of messages) await handle(message);
    for (const message of messages) {
      const isThis = (span) => span.attributes['messaging.message.id'] === message.MessageId;
      const openBefore = openNamed(processName).some(isThis);
      await client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      const endedAfter = ended(processName).some(isThis);
      perMessage.push({ messageId: message.MessageId, openBefore, endedAfter });
    }
    // Spans that did not end at their delete would end at the settle timeout: wait for
    // every process span to end, however it ends (the deadline fails a run that hangs).
    await spansUntil(() => ended(processName).length >= count);
    return {
      queueName,
      perMessage,
      deletesActive: deletes.active,
      processSpans: ended(processName).map(summarize),
      processStarted: started.get(processName) ?? 0,
    };
  } finally {
    deletes.stop();
    await setup.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  }
}

// ------------------------------------------------------------------ run

const connection = await amqp.connect(rabbitmqUrl);
const setup = sqsClient();
const cjsClient = cjs.sqs.instrumentSqsClient(sqsClient());
const esmClient = esm.sqs.instrumentSqsClient(sqsClient());
let result;
try {
  const amqpResult = await rabbitmq(connection);
  const reports = await reportedOnce(connection);
  const sqs = await sqsRound(setup, cjsClient, esm.sqs, 3, false);
  const visibilityCross = await sqsRound(setup, cjsClient, esm.sqs, 1, true);
  const visibilitySingle = await sqsRound(setup, esmClient, esm.sqs, 1, true);
  const registry = globalThis[REGISTRY_KEY];
  result = {
    copies,
    registryEntries: registry === undefined ? [] : [...registry.entries.keys()].sort(),
    reported: registry === undefined ? [] : [...registry.reported].sort(),
    amqp: amqpResult,
    reports,
    sqs,
    visibilityCross,
    visibilitySingle,
    processSpansStarted: [...started]
      .filter(([name]) => name.startsWith('process '))
      .reduce((sum, [, count]) => sum + count, 0),
    openSpans: [...open].map((span) => span.name),
    warnings,
  };
} finally {
  await connection.close();
  setup.destroy();
  cjsClient.destroy();
  esmClient.destroy();
  await provider.shutdown();
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
