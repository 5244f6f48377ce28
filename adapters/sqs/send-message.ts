import { context as contextApi } from '@opentelemetry/api';
import type { SendMessageResult } from '@aws-sdk/client-sqs';
import type { SendScope } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_MESSAGING_MESSAGE_ID } from '../../src/semconv.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';
import type { SqsOutgoingMessage } from './internal-types.js';
import { recordRequestId } from './call-outcome.js';
import type { SqsClientTracing } from './instrument-sqs-client.js';

/**
 * `SendMessage`: a `send` span (PRODUCER) from the call until SQS answers, its context
 * injected into a copy of the input's `MessageAttributes` (or `AWSTraceHeader` when they
 * are full), and the message id and request id recorded from the answer.
 */
export async function tracedSendMessage(
  tracing: SqsClientTracing,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  let scope: SendScope<SqsOutgoingMessage>;
  try {
    scope = tracing.tracer.startSend(args.input);
  } catch (error) {
    reportOnce('sqs:send', `sent an SQS message without tracing it: ${String(error)}`);
    return next(args);
  }
  const span = scope.span;
  let result: InitializeResult;
  try {
    result = await contextApi.with(scope.context, next, undefined, {
      ...args,
      input: scope.message,
    });
  } catch (error) {
    recordRequestId(span, error);
    tracing.tracer.endSpan(span, error);
    throw error;
  }
  const output = result?.output as SendMessageResult | undefined;
  const messageId = output?.MessageId;
  if (typeof messageId === 'string') span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
  recordRequestId(span, output);
  span.end();
  return result;
}
