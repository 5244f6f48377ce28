/**
 * Run by builtin-tracing.test.ts in a child process, because the client's built-in tracing
 * (`enableOpenTelemetryTracing`) is a process-wide switch that never turns off again.
 *
 *   PUBSUB_EMULATOR_HOST=127.0.0.1:8085 node --import tsx builtin-tracing.child.ts
 *
 * Publishes three messages on one topic with the client's tracing on — `both` through tracehop's
 * `traceTopic`, `client-only` through the raw topic, then `both-again` through `traceTopic` —
 * consumes them with `tracePubSubHandler`, and prints `RESULT {json}`: every span, what each
 * handler saw, the spans still open, and what went to `console.warn` (where the client warns).
 */
import { randomUUID } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';

export interface ChildSpan {
  name: string;
  scope: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: string[];
}

export interface ChildSeen {
  attributes: Record<string, string>;
  activeSpanId: string | undefined;
}

export interface ChildResult {
  topicId: string;
  subscriptionId: string;
  seen: Record<string, ChildSeen>;
  spans: ChildSpan[];
  open: { name: string; scope: string }[];
  warnings: string[];
  consoleWarnings: string[];
}

const host = process.env['PUBSUB_EMULATOR_HOST'];
if (!host) throw new Error('PUBSUB_EMULATOR_HOST is not set');
process.env['METADATA_SERVER_DETECTION'] = 'none';

const tracing = setupTestTracing();
const consoleWarnings: string[] = [];
console.warn = (...args: unknown[]) => void consoleWarnings.push(args.map(String).join(' '));
const warnings: string[] = [];
diag.setLogger(
  {
    error: () => undefined,
    warn: (message: string) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  DiagLogLevel.WARN,
);
const tracer = trace.getTracer('child');
const pubsub = new PubSub({
  projectId: 'tracehop-test',
  apiEndpoint: host,
  enableOpenTelemetryTracing: true,
});
const topicId = `tracehop-builtin-${randomUUID()}`;
const subscriptionId = `${topicId}-sub`;
const [rawTopic] = await pubsub.createTopic(topicId);
const [subscription] = await rawTopic.createSubscription(subscriptionId);

const seen: Record<string, ChildSeen> = {};
const bothHandled = new Promise<void>((resolve) => {
  subscription.on(
    'message',
    tracePubSubHandler(
      (message: Message) => {
        tracer.startSpan(`handle ${message.data.toString()}`).end();
        seen[message.data.toString()] = {
          attributes: { ...message.attributes },
          activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
        };
        message.ack();
        if (Object.keys(seen).length === 3) resolve();
      },
      { subscription },
    ),
  );
});

const tracedTopic = traceTopic(rawTopic);
await tracer.startActiveSpan('POST /both', async (span) => {
  await tracedTopic.publishMessage({ data: Buffer.from('both') });
  span.end();
});
await tracer.startActiveSpan('POST /client-only', async (span) => {
  await rawTopic.publishMessage({ data: Buffer.from('client-only') });
  span.end();
});
// Published after tracehop has seen the client's tracing replace the first message's attributes.
await tracer.startActiveSpan('POST /both-again', async (span) => {
  await tracedTopic.publishMessage({ data: Buffer.from('both-again') });
  span.end();
});
await bothHandled;
const count = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name).length;
// The client ends its own subscribe spans once its batched ack call returns.
const spans = await tracing.waitForSpans(
  (all) =>
    count(all, `subscribe ${subscriptionId}`) === 3 &&
    count(all, `${subscriptionId} subscribe`) === 3,
);
await subscription.close();
await subscription.delete();
await rawTopic.delete();
await pubsub.close();

const result: ChildResult = {
  topicId,
  subscriptionId,
  seen,
  spans: spans.map((span) => ({
    name: span.name,
    scope: span.instrumentationScope.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => link.context.spanId),
  })),
  warnings,
  consoleWarnings,
  open: tracing.openSpans().map((span) => ({
    name: (span as unknown as ReadableSpan).name,
    scope: (span as unknown as ReadableSpan).instrumentationScope.name,
  })),
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
await tracing.shutdown();
