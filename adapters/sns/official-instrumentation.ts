import { reportOnce } from '../../src/report.js';
import { DISABLE_OFFICIAL_AWS_SDK as DISABLE_LINE } from '../sqs/official-instrumentation.js';

/**
 * The one-line configuration that turns the official AWS SDK instrumentation off (for SNS and
 * every other AWS service: it has no per-service switch), as the `diag` warning quotes it.
 */
export const DISABLE_OFFICIAL_AWS_SDK = DISABLE_LINE;

/** shimmer, which the official instrumentations patch with, marks wrapped functions so. */
function isShimmerWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { __wrapped?: unknown }).__wrapped === true;
}

/**
 * Whether `@opentelemetry/instrumentation-aws-sdk` patched this SNS client (it wraps the
 * smithy `Client.prototype.send`, and each client's `middlewareStack.resolve` on first
 * use), and if so says once through `diag` what that means and how to stop it.
 */
export function isSnsOfficiallyInstrumented(client: unknown): boolean {
  if (typeof client !== 'object' || client === null) return false;
  const { send, middlewareStack } = client as { send?: unknown; middlewareStack?: unknown };
  const resolve = (middlewareStack as { resolve?: unknown } | undefined)?.resolve;
  if (!isShimmerWrapped(send) && !isShimmerWrapped(resolve)) return false;
  reportOnce(
    'sns:official-instrumentation',
    '@opentelemetry/instrumentation-aws-sdk also instruments this SNS client, so every SNS ' +
      "call gets its span as well as tracehop's (tracehop's send span is a child of its " +
      "span), and it writes its own trace attributes into the caller's Publish input " +
      "(tracehop's replace them on the message). Turn it off where the SDK starts: " +
      `${DISABLE_OFFICIAL_AWS_SDK}, or leave AwsInstrumentation out of ` +
      'registerInstrumentations().',
  );
  return true;
}
