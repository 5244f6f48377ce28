import { reportOnce } from '../../src/report.js';

/** The one-line configuration that turns the official AWS SDK instrumentation off. */
export const DISABLE_OFFICIAL_AWS_SDK =
  "getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-aws-sdk': { enabled: false } })";

/** shimmer, which the official instrumentations patch with, marks wrapped functions so. */
function isShimmerWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { __wrapped?: unknown }).__wrapped === true;
}

/**
 * Whether `@opentelemetry/instrumentation-aws-sdk` patched this client (it wraps the
 * smithy `Client.prototype.send`, and each client's `middlewareStack.resolve` on first
 * use), and if so says once through `diag` what that means and how to stop it.
 */
export function isOfficiallyInstrumented(client: unknown): boolean {
  if (typeof client !== 'object' || client === null) return false;
  const { send, middlewareStack } = client as { send?: unknown; middlewareStack?: unknown };
  const resolve = (middlewareStack as { resolve?: unknown } | undefined)?.resolve;
  if (!isShimmerWrapped(send) && !isShimmerWrapped(resolve)) return false;
  reportOnce(
    'sqs:official-instrumentation',
    '@opentelemetry/instrumentation-aws-sdk also instruments this SQS client, so every SQS ' +
      "call gets its span as well as tracehop's, and it writes its own trace attributes " +
      "(tracehop's replace them on the message). Turn it off where the SDK starts: " +
      `${DISABLE_OFFICIAL_AWS_SDK}, or leave AwsInstrumentation out of ` +
      'registerInstrumentations().',
  );
  return true;
}
