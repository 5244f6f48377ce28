import type { SNSClient } from '@aws-sdk/client-sns';
import { reportOnce } from '../../src/report.js';
import type { InitializeMiddleware, MiddlewareStackLike } from '../sqs/internal-types.js';
import { isSnsOfficiallyInstrumented } from './official-instrumentation.js';
import { tracedSendMessage } from '../sqs/send-message.js';
import { tracedBatchSend } from '../sqs/batch-send.js';
import { PublishBatch } from './publish-batch.js';
import { SnsClientTracing } from './sns-client-tracing.js';
import type { SnsClientOptions } from './types.js';

/** The name tracehop's middleware has in an SNS client's stack. */
export const SNS_MIDDLEWARE_NAME = 'tracehopSnsMiddleware';

/**
 * Instruments an `SNSClient` (AWS SDK v3) through its own middleware stack — no prototype
 * or promise is patched, so it works under ESM, bundlers and any load order:
 *
 * - `Publish` → a `send {topic}` span (PRODUCER); its context goes into a copy of the
 *   input's `MessageAttributes` (`traceparent`, `tracestate`, `baggage`, DataType
 *   `String`), within SNS's 10 attributes and 256 KiB (baggage is dropped first, then
 *   `tracestate`; a message with no room for `traceparent` goes without context, said once
 *   through `diag`). The publish never fails because of tracehop.
 * - `PublishBatch` → a `create {topic}` span per entry, each entry carrying its own, and a
 *   `send {topic}` span linking them (see {@link SnsClientOptions.createSpans}).
 *
 * SQS queues subscribed to the topic continue the trace in `tracehop/sqs`'s handler
 * decorators, with raw message delivery (the attributes arrive as SQS message attributes)
 * and without (they arrive in the SNS envelope in the body).
 *
 * Spans start when the command is sent and end when SNS answers (or the call fails: the
 * error is recorded and rethrown unchanged). The caller's command input is never modified.
 * Other commands pass through untouched. Instrumenting the same client again replaces the
 * middleware (and its options): it is in the stack once.
 *
 * @example
 * ```ts
 * const sns = instrumentSnsClient(new SNSClient({}));
 * await sns.send(new PublishCommand({ TopicArn, Message: JSON.stringify(order) }));
 * ```
 *
 * @returns the same client
 */
export function instrumentSnsClient<C extends SNSClient>(
  client: C,
  options: SnsClientOptions = {},
): C {
  try {
    isSnsOfficiallyInstrumented(client);
    const tracing = new SnsClientTracing(options);
    // The SDK's own middleware types are generic over every command's input and output;
    // tracehop's middleware is written against the structural subset it uses.
    const stack = client.middlewareStack as unknown as MiddlewareStackLike;
    stack.add(createSnsMiddleware(tracing, client), {
      step: 'initialize',
      name: SNS_MIDDLEWARE_NAME,
      priority: 'high',
      tags: ['TRACEHOP'],
      override: true,
    });
  } catch (error) {
    reportOnce('sns:instrument', `could not instrument an SNS client: ${String(error)}`);
  }
  return client;
}

/**
 * The `initialize`-step middleware of an instrumented client. It sees every command first
 * (high priority), before serialization, so it can hand a traced copy of the input to the
 * rest of the stack, and sees the deserialized output last. Commands it does not trace get
 * the next handler itself: no wrapper, no cost.
 */
function createSnsMiddleware(tracing: SnsClientTracing, client: unknown): InitializeMiddleware {
  let checkedOfficial = false;
  const publishBatch = new PublishBatch(tracing);
  return (next, context) => {
    if (!checkedOfficial) {
      // The official instrumentation patches each client's stack on its first call.
      checkedOfficial = true;
      isSnsOfficiallyInstrumented(client);
    }
    switch (context.commandName) {
      case 'PublishCommand':
        return (args) => tracedSendMessage(tracing.tracer, 'SNS', next, args);
      case 'PublishBatchCommand':
        return (args) => tracedBatchSend(publishBatch, next, args);
      default:
        return next;
    }
  };
}
