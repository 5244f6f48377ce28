import type { InitializeMiddleware } from './internal-types.js';
import { isOfficiallyInstrumented } from './official-instrumentation.js';
import { tracedReceiveMessage } from './receive-message.js';
import { tracedSendMessage } from './send-message.js';
import { tracedSendMessageBatch } from './send-message-batch.js';
import { tracedSettle, tracedSettleBatch } from './settle-message.js';
import type { SqsClientTracing } from './sqs-client-tracing.js';

/**
 * The `initialize`-step middleware of an instrumented client. It sees every command
 * first (high priority), before serialization, so it can hand a traced copy of the input
 * to the rest of the stack, and sees the deserialized output last. Commands it does not
 * trace get the next handler itself: no wrapper, no cost.
 */
export function createSqsMiddleware(
  tracing: SqsClientTracing,
  client: unknown,
): InitializeMiddleware {
  let checkedOfficial = false;
  return (next, context) => {
    if (!checkedOfficial) {
      // The official instrumentation patches each client's stack on its first call.
      checkedOfficial = true;
      isOfficiallyInstrumented(client);
    }
    switch (context.commandName) {
      case 'SendMessageCommand':
        return (args) => tracedSendMessage(tracing, next, args);
      case 'SendMessageBatchCommand':
        return (args) => tracedSendMessageBatch(tracing, next, args);
      case 'ReceiveMessageCommand':
        return (args) => tracedReceiveMessage(tracing, next, args);
      case 'DeleteMessageCommand':
        return (args) => tracedSettle(next, args, 'delete');
      case 'ChangeMessageVisibilityCommand':
        return (args) => tracedSettle(next, args, 'change_visibility');
      case 'DeleteMessageBatchCommand':
        return (args) => tracedSettleBatch(next, args, 'delete');
      case 'ChangeMessageVisibilityBatchCommand':
        return (args) => tracedSettleBatch(next, args, 'change_visibility');
      default:
        return next;
    }
  };
}
