/**
 * One side of a Pub/Sub interop test, in a process of its own: the client's built-in tracing
 * (`enableOpenTelemetryTracing`) is a process-wide switch that never turns off again, so each
 * producer and each consumer runs in its own process and exports its spans to memory.
 *
 *   PUBSUB_EMULATOR_HOST=127.0.0.1:8085 node --import tsx interop.child.ts '{json ChildTask}'
 *
 * A producer publishes the task's messages one after another (each awaited), each under its
 * own `POST {label}` span; a consumer acks `count` messages on its subscription. Either prints
 * `RESULT {json ChildReport}` and exits 0, or exits 1 with what went wrong.
 */
import { PubSub, type Message, type Topic } from '@google-cloud/pubsub';
import {
  context,
  createTraceState,
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';

/**
 * Who traces in this process: `tracehop` alone (the client's tracing off), the client's
 * `builtin` tracing alone (no tracehop), or `both`.
 */
export type ChildTracing = 'tracehop' | 'builtin' | 'both';

export interface OutgoingSpec {
  /** The message's data, and the name of the request span it is published in (`POST {label}`). */
  readonly label: string;
  /** A tracestate the request's (remote) parent carries, so that every span of the trace does. */
  readonly tracestate?: string;
}

export type ChildTask =
  | {
      readonly role: 'produce';
      readonly tracing: ChildTracing;
      readonly topic: string;
      readonly messages: readonly OutgoingSpec[];
    }
  | {
      readonly role: 'consume';
      readonly tracing: 'tracehop' | 'builtin';
      readonly subscription: string;
      readonly topic: string;
      readonly count: number;
    };

export interface ChildSpan {
  name: string;
  scope: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: { traceId: string; spanId: string }[];
  traceState: string | undefined;
}

export interface ChildReceived {
  id: string;
  attributes: Record<string, string>;
  /** The span active in the handler (tracehop's `process` span, or none without tracehop). */
  activeSpanId: string | undefined;
}

export interface ChildReport {
  spans: ChildSpan[];
  /** Producers: message id by label. */
  published: Record<string, string>;
  /** Consumers: what each handler saw, by label. */
  received: Record<string, ChildReceived>;
  /** What went to `console.warn` (the client warns there). */
  consoleWarnings: string[];
  /** What tracehop said through `diag`. */
  diagWarnings: string[];
  /** Spans of tracehop and of the test still open at the end. */
  open: string[];
}

const host = process.env['PUBSUB_EMULATOR_HOST'];
if (!host) throw new Error('PUBSUB_EMULATOR_HOST is not set');
process.env['METADATA_SERVER_DETECTION'] = 'none';
const task = JSON.parse(process.argv[2] ?? '') as ChildTask;

// A stuck side fails with what it has instead of hanging the test run.
const watchdog = setTimeout(() => {
  process.stderr.write(`child ${task.role}/${task.tracing} timed out\n`);
  process.exit(1);
}, 45_000);

const tracing = setupTestTracing();
const consoleWarnings: string[] = [];
console.warn = (...args: unknown[]) => void consoleWarnings.push(args.map(String).join(' '));
const diagWarnings: string[] = [];
diag.setLogger(
  {
    error: (message: string) => void diagWarnings.push(message),
    warn: (message: string) => void diagWarnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  DiagLogLevel.WARN,
);
const tracer = trace.getTracer('interop-child');
const pubsub = new PubSub({
  projectId: 'tracehop-test',
  apiEndpoint: host,
  enableOpenTelemetryTracing: task.tracing !== 'tracehop',
});

const published: Record<string, string> = {};
const received: Record<string, ChildReceived> = {};
let spans: ReadableSpan[];

if (task.role === 'produce') {
  const raw: Topic = pubsub.topic(task.topic);
  const topic = task.tracing === 'builtin' ? raw : traceTopic(raw);
  for (const spec of task.messages) {
    published[spec.label] = await context.with(requestParent(spec), () =>
      tracer.startActiveSpan(`POST ${spec.label}`, async (span) => {
        try {
          return await topic.publishMessage({ data: Buffer.from(spec.label) });
        } finally {
          span.end();
        }
      }),
    );
  }
  // tracehop's create spans end before the publish resolves, the client's as its batch's
  // Publish call returns: all are in once every request span and client create span is.
  const count = task.messages.length;
  const clientCreates = task.tracing === 'tracehop' ? 0 : count;
  spans = await tracing.waitForSpans(
    (all) =>
      all.filter((s) => s.name.startsWith('POST ')).length === count &&
      all.filter((s) => s.name === `${task.topic} create`).length === clientCreates,
  );
} else {
  const subscription = pubsub.subscription(task.subscription);
  const count = task.count;
  const done = new Promise<void>((resolve, reject) => {
    subscription.on('error', reject);
    const handle = (message: Message) => {
      received[message.data.toString()] = {
        id: message.id,
        attributes: { ...message.attributes },
        activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
      };
      message.ack();
      if (Object.keys(received).length === count) resolve();
    };
    subscription.on(
      'message',
      task.tracing === 'tracehop'
        ? tracePubSubHandler(handle, { subscription, topic: task.topic })
        : handle,
    );
  });
  await done;
  // tracehop ends its span at the ack; the client ends its subscribe span once its ack call returns.
  const name =
    task.tracing === 'tracehop'
      ? `subscribe ${task.subscription}`
      : `${task.subscription} subscribe`;
  spans = await tracing.waitForSpans((all) => all.filter((s) => s.name === name).length === count);
  await subscription.close();
}
await pubsub.close();

const report: ChildReport = {
  spans: spans.map((span) => ({
    name: span.name,
    scope: span.instrumentationScope.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
    })),
    traceState: span.spanContext().traceState?.serialize(),
  })),
  published,
  received,
  consoleWarnings,
  diagWarnings,
  // The client 6.3.0 leaves some of its own spans open (`publisher batching`): not ours.
  open: tracing
    .openSpans()
    .map((span) => span as unknown as ReadableSpan)
    .filter((span) => span.instrumentationScope.name !== '@google-cloud/pubsub')
    .map((span) => span.name),
};
clearTimeout(watchdog);
process.stdout.write(`RESULT ${JSON.stringify(report)}\n`);
await tracing.shutdown();

/** The context a request span starts in: a fresh trace, or a remote parent with a tracestate. */
function requestParent(spec: OutgoingSpec): Context {
  if (spec.tracestate === undefined) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: randomHex(16),
    spanId: randomHex(8),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState(spec.tracestate),
  });
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}
