/**
 * Attributes tracehop records on SQS spans and events where the semantic conventions
 * have no name (yet). Kept under `tracehop.sqs.*` so that they never collide with a
 * future `aws.sqs.*` convention.
 *
 * @packageDocumentation
 */

/**
 * On `process` spans: the message's `ApproximateReceiveCount` system attribute — 1 on the
 * first delivery, 2 when it comes back after a failed attempt, and so on.
 */
export const ATTR_SQS_APPROXIMATE_RECEIVE_COUNT = 'tracehop.sqs.approximate_receive_count';

/** On `change_visibility` events: the new visibility timeout, in seconds. */
export const ATTR_SQS_VISIBILITY_TIMEOUT = 'tracehop.sqs.visibility_timeout';
