import { context as contextApi } from '@opentelemetry/api';
import type { PublishResponse } from '@aws-sdk/client-sns';
import type { SendScope } from '../../src/producer-tracer.js';
import { reportOnce } from '../../src/report.js';
import { ATTR_MESSAGING_MESSAGE_ID } from '../../src/semconv.js';
import { recordRequestId } from '../sqs/call-outcome.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from '../sqs/internal-types.js';
import type { SnsOutgoingMessage } from './internal-types.js';
import type { SnsClientTracing } from './sns-client-tracing.js';

/**
 * `Publish`: a `send` span (PRODUCER) from the call until SNS answers, its context injected
 * into a copy of the input's `MessageAttributes` (when they have room), and the message id
 * and request id recorded from the answer.
 */
export async function tracedPublish(
  tracing: SnsClientTracing,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  let scope: SendScope<SnsOutgoingMessage>;
  try {
    scope = tracing.tracer.startSend(args.input);
  } catch (error) {
    reportOnce('sns:publish', `published an SNS message without tracing it: ${String(error)}`);
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
  const output = result?.output as PublishResponse | undefined;
  const messageId = output?.MessageId;
  if (typeof messageId === 'string') span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, messageId);
  recordRequestId(span, output);
  span.end();
  return result;
}
