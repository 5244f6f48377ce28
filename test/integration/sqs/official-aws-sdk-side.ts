/**
 * The side of the interop tests that runs `@opentelemetry/instrumentation-aws-sdk` 0.78. It
 * patches through require hooks, which vitest's ESM imports do not pass through, so it runs
 * here, in its own process: its own provider with an in-memory exporter and the W3C
 * propagators, the instrumentation registered BEFORE `@aws-sdk/client-sqs` is required.
 * Prints its finished spans (and tracehop's diag warnings) as one JSON line on stdout.
 *
 *   node --import tsx official-aws-sdk-side.ts <send|receive|both> <endpoint> <queueUrl>
 *
 * - send: sends one message inside a span `official request`;
 * - receive: receives up to 10 messages (the instrumentation links its span to each);
 * - both: also instruments the same client with tracehop, then sends one message.
 */
import { createRequire } from 'node:module';

type Api = typeof import('@opentelemetry/api');
type SdkTraceBase = typeof import('@opentelemetry/sdk-trace-base');
type Core = typeof import('@opentelemetry/core');
type ContextAsyncHooks = typeof import('@opentelemetry/context-async-hooks');
type Instrumentation = typeof import('@opentelemetry/instrumentation');
type AwsSdkInstrumentation = typeof import('@opentelemetry/instrumentation-aws-sdk');
type ClientSqs = typeof import('@aws-sdk/client-sqs');

const require = createRequire(import.meta.url);
const [mode = 'send', endpoint = '', queueUrl = ''] = process.argv.slice(2);

const api = require('@opentelemetry/api') as Api;
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
  require('@opentelemetry/sdk-trace-base') as SdkTraceBase;
const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } =
  require('@opentelemetry/core') as Core;
const { AsyncLocalStorageContextManager } =
  require('@opentelemetry/context-async-hooks') as ContextAsyncHooks;
const { registerInstrumentations } = require('@opentelemetry/instrumentation') as Instrumentation;
const { AwsInstrumentation } =
  require('@opentelemetry/instrumentation-aws-sdk') as AwsSdkInstrumentation;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
api.trace.setGlobalTracerProvider(provider);
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
api.propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);
const warnings: string[] = [];
api.diag.setLogger(
  {
    error: () => undefined,
    warn: (message: string) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  api.DiagLogLevel.WARN,
);
registerInstrumentations({
  instrumentations: [new AwsInstrumentation()],
  tracerProvider: provider,
});

// Required only now, so that the instrumentation's hooks see it.
const { SQSClient, SendMessageCommand, ReceiveMessageCommand } =
  require('@aws-sdk/client-sqs') as ClientSqs;
const client = new SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

async function main(): Promise<unknown> {
  if (mode === 'receive') {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
      }),
    );
    return Messages.map((message) => message.MessageId);
  }
  if (mode === 'both') {
    const { instrumentSqsClient } = await import('../../../adapters/sqs/index.js');
    instrumentSqsClient(client);
  }
  const tracer = api.trace.getTracer('official-side');
  return tracer.startActiveSpan('official request', async (span) => {
    try {
      const input = { QueueUrl: queueUrl, MessageBody: `from ${mode}` };
      const { MessageId } = await client.send(new SendMessageCommand(input));
      return { MessageId, input };
    } finally {
      span.end();
    }
  });
}

const result = await main();
client.destroy();
const spans = exporter.getFinishedSpans().map((span) => ({
  name: span.name,
  kind: span.kind,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
  links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
  attributes: span.attributes,
  scope: span.instrumentationScope.name,
}));
process.stdout.write(`${JSON.stringify({ result, spans, warnings })}\n`);
await provider.shutdown();
