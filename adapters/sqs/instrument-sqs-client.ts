import type { SQSClient } from '@aws-sdk/client-sqs';
import { reportOnce } from '../../src/report.js';
import type { MiddlewareStackLike } from './internal-types.js';
import { isOfficiallyInstrumented } from './official-instrumentation.js';
import { SqsClientTracing } from './sqs-client-tracing.js';
import { createSqsMiddleware } from './sqs-middleware.js';
import type { SqsClientOptions } from './types.js';

/** The name tracehop's middleware has in a client's stack. */
export const SQS_MIDDLEWARE_NAME = 'tracehopSqsMiddleware';

/**
 * Instruments an `SQSClient` (AWS SDK v3) through its own middleware stack — no
 * prototype or promise is patched, so it works under ESM, bundlers and any load order:
 *
 * - `SendMessage` → a `send {queue}` span (PRODUCER); its context goes into a copy of the
 *   input's `MessageAttributes` (`traceparent`, `tracestate`, `baggage`, DataType
 *   `String`), within SQS's 10 attributes and 256 KiB, else into the `AWSTraceHeader`
 *   system attribute. The send never fails because of tracehop.
 * - `SendMessageBatch` → a `create {queue}` span per entry, each entry carrying its own,
 *   and a `send {queue}` span linking them (see {@link SqsClientOptions.createSpans}).
 * - `ReceiveMessage` → a `receive {queue}` span (CLIENT) linked to every message's
 *   creation context, with `messaging.batch.message_count`; asks for the trace
 *   attributes (see {@link SqsClientOptions.requestTraceAttributes}).
 * - `DeleteMessage(Batch)`, `ChangeMessageVisibility(Batch)` of a message a handler
 *   decorator is processing → `delete` / `change_visibility` events on its `process` span.
 *
 * Spans start when the command is sent and end when SQS answers (or the call fails: the
 * error is recorded and rethrown unchanged). The caller's command input is never modified.
 * Instrumenting the same client again replaces the middleware (and its options): it is
 * in the stack once.
 *
 * @returns the same client
 */
export function instrumentSqsClient<C extends SQSClient>(
  client: C,
  options: SqsClientOptions = {},
): C {
  try {
    isOfficiallyInstrumented(client);
    const tracing = new SqsClientTracing(options);
    // The SDK's own middleware types are generic over every command's input and output;
    // tracehop's middleware is written against the structural subset it uses.
    const stack = client.middlewareStack as unknown as MiddlewareStackLike;
    stack.add(createSqsMiddleware(tracing, client), {
      step: 'initialize',
      name: SQS_MIDDLEWARE_NAME,
      priority: 'high',
      tags: ['TRACEHOP'],
      override: true,
    });
  } catch (error) {
    reportOnce('sqs:instrument', `could not instrument an SQS client: ${String(error)}`);
  }
  return client;
}
