/**
 * An application instrumented the usual way, by @opentelemetry/instrumentation-amqplib,
 * for the interop tests. Runs in a child process (the instrumentation patches through
 * require hooks, which vitest's ESM imports would bypass):
 *
 *   node --import tsx official-app.ts publish|consume|both <amqp url> <queue>
 *
 * `publish` sends one message from inside a span; `consume` prints `ready`, handles one
 * message and acks it; `both` also wraps its channel with tracehop's `traceChannel` and
 * publishes one message, as an app that has both would. Each then prints its finished
 * spans and the `diag` warnings as one JSON line.
 */
import { createRequire } from 'node:module';
import { context, diag, DiagLogLevel, propagation, trace, type Link } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type * as Amqplib from 'amqplib';

/** What the app prints. */
export interface ChildReport {
  spans: ChildSpan[];
  warnings: string[];
}

/** One finished span, as the test reads it. */
export interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: { traceId: string; spanId: string }[];
}

const [mode, url, queue] = process.argv.slice(2);
if (
  (mode !== 'publish' && mode !== 'consume' && mode !== 'both') ||
  url === undefined ||
  queue === undefined
) {
  throw new Error('usage: official-app.ts publish|consume|both <amqp url> <queue>');
}

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

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
// Registered before amqplib is required, as the instrumentation needs.
const instrumentation = new AmqplibInstrumentation();
instrumentation.setTracerProvider(provider);
const amqplib = createRequire(import.meta.url)('amqplib') as typeof Amqplib;

const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
if (mode === 'publish') {
  await trace.getTracer('official-app').startActiveSpan('official request', async (span) => {
    channel.sendToQueue(queue, Buffer.from('from the official instrumentation'));
    span.end();
    await Promise.resolve();
  });
} else if (mode === 'both') {
  const { traceChannel } = await import('../../../adapters/amqp/index.js');
  const traced = traceChannel(channel);
  traced.sendToQueue(queue, Buffer.from('from an app with both'));
} else {
  const handled = new Promise<void>((resolve) => {
    void channel.consume(queue, (message) => {
      if (message === null) return;
      trace.getTracer('official-app').startSpan('official handler work').end();
      channel.ack(message);
      resolve();
    });
  });
  process.stdout.write('ready\n');
  await handled;
}
await channel.close();
await connection.close();
const spans: ChildSpan[] = exporter.getFinishedSpans().map((span) => ({
  name: span.name,
  kind: span.kind,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
  links: span.links.map((link: Link) => ({
    traceId: link.context.traceId,
    spanId: link.context.spanId,
  })),
}));
const report: ChildReport = { spans, warnings };
process.stdout.write(`${JSON.stringify(report)}\n`);
await provider.shutdown();
