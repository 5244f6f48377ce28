import type { Span } from '@opentelemetry/api';
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
