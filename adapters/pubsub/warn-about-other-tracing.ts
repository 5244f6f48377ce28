import { reportOnce } from '../../src/report.js';

interface MaybeClientOwned {
  readonly pubsub?: { readonly options?: { readonly enableOpenTelemetryTracing?: unknown } };
}

/** True for a function that shimmer (used by the OpenTelemetry instrumentations) wrapped. */
function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { __wrapped?: unknown }).__wrapped === true;
}

/**
 * Says once through `diag` when another tracer already covers the same client, so nobody
 * gets two sets of producer or consumer spans without knowing why:
 * - the client's built-in tracing (`new PubSub({ enableOpenTelemetryTracing: true })`) —
 *   it makes its own create/send/subscribe/ack spans beside tracehop's and writes
 *   `googclient_traceparent`; the trace stays one trace either way;
 * - a function wrapped by shimmer (`__wrapped`), i.e. a patching instrumentation.
 * Never throws.
 */
export function warnAboutOtherTracing(owner: object, functions: readonly unknown[]): void {
  try {
    if ((owner as MaybeClientOwned).pubsub?.options?.enableOpenTelemetryTracing === true) {
      reportOnce(
        'pubsub:builtin-tracing',
        "the Pub/Sub client's built-in tracing is on too: each message gets the client's " +
          "create/send/subscribe spans beside tracehop's, in the same trace. To keep only " +
          "tracehop's, create the client with `new PubSub({ enableOpenTelemetryTracing: false })`.",
      );
    }
    if (functions.some(isWrapped)) {
      reportOnce(
        'pubsub:wrapped',
        'this Pub/Sub client is already patched by an instrumentation (shimmer `__wrapped`): ' +
          'messages would get two sets of spans. Disable that instrumentation for ' +
          '@google-cloud/pubsub and keep tracehop, or the other way round.',
      );
    }
  } catch {
    // Looking is best-effort: an exotic object must not break wrapping it.
  }
}
