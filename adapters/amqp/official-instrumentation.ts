import { reportOnce } from '../../src/report.js';
import type { RawChannel } from './internal-types.js';

/** The one-line configuration that turns the official amqplib instrumentation off. */
export const DISABLE_OFFICIAL_AMQPLIB =
  "getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-amqplib': { enabled: false } })";

/** shimmer, which the official instrumentations patch with, marks wrapped functions so. */
function isShimmerWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { __wrapped?: unknown }).__wrapped === true;
}

/**
 * Whether `@opentelemetry/instrumentation-amqplib` patched this channel's class, and if
 * so says once through `diag` that every message gets its spans twice and how to stop it.
 */
export function isOfficiallyInstrumented(channel: RawChannel): boolean {
  const patched =
    isShimmerWrapped(Reflect.get(channel, 'publish')) ||
    isShimmerWrapped(Reflect.get(channel, 'consume'));
  if (!patched) return false;
  reportOnce(
    'amqp:official-instrumentation',
    '@opentelemetry/instrumentation-amqplib also instruments this amqplib channel, so messages ' +
      "get two send and two process spans and its trace headers replace tracehop's. Turn it " +
      `off where the SDK starts: ${DISABLE_OFFICIAL_AMQPLIB}, or leave AmqplibInstrumentation ` +
      'out of registerInstrumentations().',
  );
  return true;
}
