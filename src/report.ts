import { diag } from '@opentelemetry/api';
import { registry } from './registry.js';

/**
 * Reports a propagation problem once per process through OpenTelemetry's `diag`
 * logger. Problems with trace headers are never thrown: the message is still sent
 * or processed; this is the one place the user hears about it. "Once per process"
 * holds when tracehop is loaded twice (ESM and CommonJS): the set of reports is shared.
 *
 * @param key - identifies the kind of problem; the same key is reported only once.
 */
export function reportOnce(key: string, message: string): void {
  const reported = registry().reported;
  if (reported.has(key)) return;
  reported.add(key);
  diag.warn(`tracehop: ${message}`);
}

/** Forgets what was reported, so tests can observe each report again. */
export function resetReports(): void {
  registry().reported.clear();
}
