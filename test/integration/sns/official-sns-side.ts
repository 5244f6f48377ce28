/**
 * The side of the SNS interop tests that runs `@opentelemetry/instrumentation-aws-sdk` 0.78. It
 * patches through require hooks, which vitest's ESM imports do not pass through, so it runs
 * here, in its own process: its own provider with an in-memory exporter and the W3C
 * propagators, the instrumentation registered BEFORE the AWS SDK clients are required.
 * Prints its finished spans (and tracehop's diag warnings) as one JSON line on stdout.
 *
 *   node --import tsx official-sns-side.ts <mode> <endpoint> <topicArn | queueUrl>
 *
 * - publish <topicArn>: publishes one SNS message inside a span `official request`;
 * - both <topicArn>: also instruments the same SNS client with tracehop, then publishes;
 * - receive <queueUrl>: receives up to 10 SQS messages (the instrumentation links its
 *   receive span to each message's context);
 * - receive-payload <queueUrl>: the same with `sqsExtractContextPropagationFromPayload: true`,
 *   the instrumentation's option for reading the context from an SNS envelope in the body.
 */
import { createRequire } from 'node:module';

type Api = typeof import('@opentelemetry/api');
type SdkTraceBase = typeof import('@opentelemetry/sdk-trace-base');
type Core = typeof import('@opentelemetry/core');
type ContextAsyncHooks = typeof import('@opentelemetry/context-async-hooks');
type Instrumentation = typeof import('@opentelemetry/instrumentation');
type AwsSdkInstrumentation = typeof import('@opentelemetry/instrumentation-aws-sdk');
type ClientSns = typeof import('@aws-sdk/client-sns');
type ClientSqs = typeof import('@aws-sdk/client-sqs');

const require = createRequire(import.meta.url);
const [mode = 'publish', endpoint = '', target = ''] = process.argv.slice(2);

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
  instrumentations: [
    new AwsInstrumentation({ sqsExtractContextPropagationFromPayload: mode === 'receive-payload' }),
  ],
  tracerProvider: provider,
});

const clientConfig = {
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

async function receive(): Promise<unknown> {
  // Required only now, so that the instrumentation's hooks see it.
  const { SQSClient, ReceiveMessageCommand } = require('@aws-sdk/client-sqs') as ClientSqs;
  const client = new SQSClient(clientConfig);
  try {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: target, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
    );
    return Messages.map((message) => message.MessageId);
  } finally {
    client.destroy();
  }
}

async function publish(): Promise<unknown> {
  const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns') as ClientSns;
  const client = new SNSClient(clientConfig);
  if (mode === 'both') {
    const { instrumentSnsClient } = await import('../../../adapters/sns/index.js');
    instrumentSnsClient(client);
  }
  try {
    return await api.trace
      .getTracer('official-side')
      .startActiveSpan('official request', async (span) => {
        try {
          const input = { TopicArn: target, Message: `from ${mode}` };
          const { MessageId } = await client.send(new PublishCommand(input));
          return { MessageId, input };
        } finally {
          span.end();
        }
      });
  } finally {
    client.destroy();
  }
}

const result = mode.startsWith('receive') ? await receive() : await publish();
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
