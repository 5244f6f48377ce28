/**
 * The demo: one order crosses three brokers and stays one trace, and a nightly job runs
 * on its own root traces. Brokers are started here (RabbitMQ, an SQS-protocol server,
 * the Pub/Sub emulator), or taken from RABBITMQ_URL, SQS_ENDPOINT, PUBSUB_EMULATOR_HOST.
 * The flow is in demo-flow.ts:
 *
 *   POST /orders (HTTP API)
 *     → SQS `orders`          → billing worker (charges the card)
 *     → RabbitMQ `shipments`  → shipping worker (books a courier)
 *     → Pub/Sub `order-events`, as a CloudEvent → notification worker (sends an email)
 *
 * The traces are printed as trees. With OTEL_EXPORTER_OTLP_ENDPOINT set they are also exported
 * over OTLP/HTTP (service `tracehop-demo`, or OTEL_SERVICE_NAME): to Jaeger, for one.
 *
 *   npm run demo
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm run demo
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { renderTraceTree } from '../src/testing/index.js';
import { startBrokers } from '../scripts/brokers/index.js';
import { runDemo } from './demo-flow.js';

process.env['METADATA_SERVER_DETECTION'] = 'none';
// In a service: NodeSDK and an OTLP exporter (see examples/service/otel.ts). Here: the spans are
// kept in memory to be printed and, when an OTLP endpoint is set, exported there as well.
const memory = new InMemorySpanExporter();
const spanProcessors: SpanProcessor[] = [new SimpleSpanProcessor(memory)];
if (process.env['OTEL_EXPORTER_OTLP_ENDPOINT']) {
  // OTLP/HTTP (JSON) to $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, batched; flushed at shutdown.
  spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
}
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({
    'service.name': process.env['OTEL_SERVICE_NAME'] ?? 'tracehop-demo',
  }),
  spanProcessors,
});
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);

const brokers = await startBrokers();
try {
  const demo = await runDemo({
    sqsEndpoint: brokers.sqs.endpoint,
    rabbitmqUrl: brokers.rabbitmq.url,
    pubsubEmulatorHost: brokers.pubsub.host,
  });
  console.log(`\n${renderTraceTree(memory.getFinishedSpans())}`);
  await demo.close();
} finally {
  await provider.shutdown(); // with OTLP on: exports what is still in the batch
  await brokers.stopAll();
}
