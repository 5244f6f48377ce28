/**
 * What an SQS call's answer adds to its span (the AWS request id), and the guard around
 * tracehop's own bookkeeping after a call has answered, which must never fail the call.
 *
 * @packageDocumentation
 */
import type { Span } from '@opentelemetry/api';
import { reportOnce } from '../../src/report.js';
import { ATTR_AWS_REQUEST_ID } from '../../src/semconv.js';
import type { ResponseMetadataHolder } from './internal-types.js';

/** The AWS request id of an SDK output or error (`$metadata.requestId`), if it has one. */
export function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as ResponseMetadataHolder).$metadata?.requestId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Sets `aws.request_id` on a span from an SDK output or error. */
export function recordRequestId(span: Span, value: unknown): void {
  const id = requestIdOf(value);
  if (id !== undefined) span.setAttribute(ATTR_AWS_REQUEST_ID, id);
}

/**
 * Runs tracehop's own bookkeeping after an SQS call has answered: a failure there is
 * reported once through `diag` and never reaches the caller, whose call succeeded.
 */
export function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportOnce(`sqs:${what}`, `could not record ${what} on its span: ${String(error)}`);
  }
}
