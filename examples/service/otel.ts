/**
 * The OpenTelemetry setup, loaded before the app with `--import`, as the NodeSDK docs recommend:
 *
 *   node --import tsx --import ./examples/service/otel.ts examples/service/api.ts
 *
 * Everything else comes from the standard environment variables: OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318), OTEL_EXPORTER_OTLP_PROTOCOL
 * (`http/protobuf` by default, or `http/json`), OTEL_TRACES_SAMPLER… Traces go out over OTLP/HTTP,
 * and metrics too: OTEL_METRICS_EXPORTER=none where the backend takes only traces (Jaeger).
 */
import { register } from 'node:module';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { NodeSDK } from '@opentelemetry/sdk-node';

// Under ESM, instrumentations can patch the packages the app imports (express, pg…) only through
// this loader hook, the one `--experimental-loader=@opentelemetry/instrumentation/hook.mjs` adds
// (node:http is patched either way). It must be registered before the app's modules load: hence
// `--import`.
// (Node 24 deprecates module.register() in favour of module.registerHooks(), which takes only
// synchronous hooks; OpenTelemetry's hook is asynchronous, and the one it documents for ESM.)
// eslint-disable-next-line @typescript-eslint/no-deprecated -- see the line above
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const sdk = new NodeSDK({
  instrumentations: [
    getNodeAutoInstrumentations({
      // tracehop wraps the SQS and amqplib clients; these would trace each message a second time.
      '@opentelemetry/instrumentation-amqplib': { enabled: false },
      '@opentelemetry/instrumentation-aws-sdk': { enabled: false },
      // Log lines get their trace ids from tracehop's traceLogFields() (see the pino mixin).
      '@opentelemetry/instrumentation-pino': { enabled: false },
    }),
  ],
});
sdk.start();

// Flush the last spans before the process goes.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void sdk.shutdown().finally(() => process.exit(0));
  });
}
