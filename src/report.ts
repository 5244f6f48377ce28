import { diag } from '@opentelemetry/api';

const reported = new Set<string>();

/**
 * Reports a propagation problem once per process through OpenTelemetry's `diag`
 * logger. Problems with trace headers are never thrown: the message is still sent
 * or processed; this is the one place the user hears about it.
 *
 * @param key - identifies the kind of problem; the same key is reported only once.
 */
export function reportOnce(key: string, message: string): void {
  if (reported.has(key)) return;
  reported.add(key);
  diag.warn(`tracehop: ${message}`);
}

/** Forgets what was reported, so tests can observe each report again. */
export function resetReports(): void {
  reported.clear();
}
