import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { ProducerTracer } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import type {
  InitializeMiddleware,
  MiddlewareStackLike,
  SqsOutgoingMessage,
} from './internal-types.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-size.js';
import { isOfficiallyInstrumented } from './official-instrumentation.js';
import { tracedReceiveMessage } from './receive-message.js';
import { tracedSendMessage } from './send-message.js';
import { tracedBatchSend } from './batch-send.js';
import { SendMessageBatch } from './send-message-batch.js';
import { tracedSettle, tracedSettleBatch } from './settle-message.js';
import { SqsTransport } from './sqs-transport.js';
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

/** What one instrumented client's middleware works with: its tracer, transport and options. */
export class SqsClientTracing {
  readonly transport: SqsTransport;
  /** `send` and `create` spans. */
  readonly tracer: ProducerTracer<SqsOutgoingMessage>;
  /** `receive` spans. */
  readonly receiver: ConsumerTracer<Message>;
  readonly createSpans: boolean;
  readonly requestTraceAttributes: boolean;
  readonly maxMessageBytes: number;

  constructor(options: SqsClientOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.transport = new SqsTransport(this.maxMessageBytes);
    const tracing = {
      tracerProvider: options.tracerProvider,
      spanName: options.spanName,
      meterProvider: options.meterProvider,
      destinationTemplate: options.destinationTemplate,
    };
    this.tracer = new ProducerTracer(this.transport, tracing);
    this.receiver = new ConsumerTracer(this.transport, tracing);
    this.createSpans = options.createSpans ?? true;
    this.requestTraceAttributes = options.requestTraceAttributes ?? true;
  }
}

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
  const sendMessageBatch = new SendMessageBatch(tracing);
  return (next, context) => {
    if (!checkedOfficial) {
      // The official instrumentation patches each client's stack on its first call.
      checkedOfficial = true;
      isOfficiallyInstrumented(client);
    }
    switch (context.commandName) {
      case 'SendMessageCommand':
        return (args) => tracedSendMessage(tracing.tracer, 'SQS', next, args);
      case 'SendMessageBatchCommand':
        return (args) => tracedBatchSend(sendMessageBatch, next, args);
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
