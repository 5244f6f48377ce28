import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_SYSTEM_NAME,
  PREVIOUS_ATTRIBUTE_NAMES,
  PREVIOUS_SYSTEM_VALUES,
} from './semconv.js';

/**
 * Whether `OTEL_SEMCONV_STABILITY_OPT_IN` asks for the previous messaging names too
 * (`messaging/dup`). Read from the environment of the given process, or the current one.
 */
export function wantsPreviousNames(env: NodeJS.ProcessEnv = process.env): boolean {
  const optIn = env['OTEL_SEMCONV_STABILITY_OPT_IN'];
  if (optIn === undefined) return false;
  return optIn.split(',').some((entry) => entry.trim() === 'messaging/dup');
}

/** Adds the pre-1.45 names beside the new ones, in place. */
export function addPreviousNames(attributes: Attributes): void {
  for (const key of Object.keys(attributes)) {
    const previous = PREVIOUS_ATTRIBUTE_NAMES[key];
    if (previous === undefined) continue;
    const value = attributes[key];
    attributes[previous] =
      key === ATTR_MESSAGING_SYSTEM_NAME && typeof value === 'string'
        ? (PREVIOUS_SYSTEM_VALUES[value] ?? value)
        : value;
  }
}
