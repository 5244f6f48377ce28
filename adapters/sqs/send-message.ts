import { context as contextApi } from '@opentelemetry/api';
import type { ProducerTracer, SendScope } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_MESSAGING_MESSAGE_ID } from '../../src/semconv.js';
import { recordRequestId } from './call-outcome.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';

/**
 * One message sent by an AWS SDK v3 command — SQS `SendMessage`, SNS `Publish`: a `send`
 * span (PRODUCER) from the call until the service answers, its context injected into a copy
 * of the input's `MessageAttributes` (or, for SQS, `AWSTraceHeader` when they are full), and
 * the message id and request id recorded from the answer. `service` names it in the one
 * `diag` report made if tracing the call fails (`SQS`, `SNS`).
 */
export async function tracedSendMessage<TOutgoing>(
  tracer: ProducerTracer<TOutgoing>,
  service: string,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  let scope: SendScope<TOutgoing>;
  try {
    scope = tracer.startSend(args.input as TOutgoing);
  } catch (error) {
    reportOnce(
      `${service}:send`,
      `sent an ${service} message without tracing it: ${String(error)}`,
    );
    return next(args);
  }
  const span = scope.span;
  let result: InitializeResult;
  try {
    result = await contextApi.with(scope.context, next, undefined, {
      ...args,
      input: scope.message as object,
    });
  } catch (error) {
    recordRequestId(span, error);
    tracer.endSpan(span, error);
    throw error;
  }
  // SendMessageResult and PublishResponse both answer with the message's `MessageId`.
  const output = result?.output as { MessageId?: unknown } | undefined;
  const messageId = output?.MessageId;
  if (typeof messageId === 'string') span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
  recordRequestId(span, output);
  span.end();
  return result;
}
