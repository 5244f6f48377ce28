import {
  context as contextApi,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type {
  Message,
  MessageSystemAttributeName,
  ReceiveMessageRequest,
  ReceiveMessageResult,
} from '@aws-sdk/client-sqs';
import { BAGGAGE, TRACEPARENT, TRACESTATE } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import type { InitializeArgs, InitializeHandler, InitializeResult } from './internal-types.js';
import { rememberQueueUrl } from './in-flight.js';
import { recordRequestId, safely } from './call-outcome.js';
import type { SqsClientTracing } from './instrument-sqs-client.js';
import { describeQueue } from './sqs-transport.js';

const NO_MESSAGES: readonly Message[] = Object.freeze([]);

/** The fields of the default (W3C) propagator, when no global one is registered. */
const W3C_FIELDS: readonly string[] = Object.freeze([TRACEPARENT, TRACESTATE, BAGGAGE]);

/**
 * Other spellings of the W3C names that producers write (`TraceParent`, `TRACESTATE`…):
 * SQS returns only the attributes asked for, matching names case-sensitively, so a receive
 * that asks for `traceparent` alone would never see them. tracehop reads them in any case.
 */
const OTHER_SPELLINGS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  [TRACEPARENT]: Object.freeze(['TraceParent', 'Traceparent', 'TRACEPARENT']),
  [TRACESTATE]: Object.freeze(['TraceState', 'Tracestate', 'TRACESTATE']),
  [BAGGAGE]: Object.freeze(['Baggage', 'BAGGAGE']),
});

/** The propagator's fields and their other spellings (once per `ReceiveMessage`, not per message). */
function attributeNamesFor(fields: readonly string[]): readonly string[] {
  const names = [...fields];
  for (const field of fields) names.push(...(OTHER_SPELLINGS[field] ?? []));
  return names;
}

/**
 * The system attributes tracehop reads: the X-Ray context, the receive count, and when SQS
 * accepted the message (for the queue time).
 */
const SYSTEM_ATTRIBUTES: readonly MessageSystemAttributeName[] = Object.freeze([
  'AWSTraceHeader',
  'ApproximateReceiveCount',
  'SentTimestamp',
]);

/**
 * `ReceiveMessage`: a `receive` span (CLIENT) from the call until SQS answers, with the
 * number of messages and a link to each one's creation context. Asks SQS for the trace
 * attributes on a copy of the input (see `requestTraceAttributes`), and remembers which
 * queue each message came from for the handler decorators.
 */
export async function tracedReceiveMessage(
  tracing: SqsClientTracing,
  next: InitializeHandler,
  args: InitializeArgs,
): Promise<InitializeResult> {
  const input = args.input as ReceiveMessageRequest;
  let span: Span;
  let spanContext: Context;
  let tracedArgs = args;
  try {
    const attributes: Attributes = {};
    const destination = describeQueue(input.QueueUrl, attributes, true);
    const parent = contextApi.active();
    span = tracing.receiver.startReceive(destination, attributes, parent);
    spanContext = trace.setSpan(parent, span);
    if (tracing.requestTraceAttributes) {
      const asked = withTraceAttributeNames(input);
      if (asked !== input) tracedArgs = { ...args, input: asked };
    }
  } catch (error) {
    reportOnce('sqs:receive', `received SQS messages without tracing it: ${String(error)}`);
    return next(args);
  }
  let result: InitializeResult;
  try {
    result = await contextApi.with(spanContext, next, undefined, tracedArgs);
  } catch (error) {
    recordRequestId(span, error);
    tracing.receiver.endReceive(span, NO_MESSAGES, error);
    throw error;
  }
  let messages = NO_MESSAGES;
  safely('ReceiveMessage result', () => {
    const output = result.output as ReceiveMessageResult | undefined;
    if (Array.isArray(output?.Messages)) messages = output.Messages;
    if (typeof input.QueueUrl === 'string') rememberQueueUrl(messages, input.QueueUrl);
    recordRequestId(span, output);
  });
  tracing.receiver.endReceive(span, messages);
  return result;
}

/**
 * A copy of a `ReceiveMessage` input that also asks for the propagator's fields as
 * message attributes and for `AWSTraceHeader`, `ApproximateReceiveCount` and
 * `SentTimestamp` as system attributes, or the input itself when it already asks for them
 * (or for `All`).
 */
export function withTraceAttributeNames(input: ReceiveMessageRequest): ReceiveMessageRequest {
  const fields = propagation.fields();
  const messageNames = withNames(
    input.MessageAttributeNames,
    attributeNamesFor(fields.length > 0 ? fields : W3C_FIELDS),
    undefined,
    true,
  );
  const systemNames = withNames(
    input.MessageSystemAttributeNames,
    SYSTEM_ATTRIBUTES,
    // The deprecated name of the same list: callers that still use it must not get both.
    (input as { readonly AttributeNames?: readonly string[] }).AttributeNames,
    false,
  );
  if (
    messageNames === input.MessageAttributeNames &&
    systemNames === input.MessageSystemAttributeNames
  ) {
    return input;
  }
  return {
    ...input,
    MessageAttributeNames: messageNames,
    MessageSystemAttributeNames: systemNames,
  };
}

/**
 * `names` with the `wanted` ones it lacks appended (a new array), or `names` itself when
 * nothing is missing or it asks for `All` (`.*` too, for message attributes). `legacy`:
 * the deprecated `AttributeNames`, which SQS merges with `MessageSystemAttributeNames`.
 */
function withNames<T extends string>(
  names: T[] | undefined,
  wanted: readonly T[],
  legacy: readonly string[] | undefined,
  dotStarIsAll: boolean,
): T[] | undefined {
  if (asksForAll(names, dotStarIsAll) || asksForAll(legacy, false)) return names;
  let result: T[] | undefined;
  for (const name of wanted) {
    if (names?.includes(name) || legacy?.includes(name)) continue;
    result ??= Array.isArray(names) ? [...names] : [];
    result.push(name);
  }
  return result ?? names;
}

function asksForAll(names: readonly string[] | undefined, dotStarIsAll: boolean): boolean {
  if (!Array.isArray(names)) return false;
  return names.includes('All') || (dotStarIsAll && names.includes('.*'));
}
