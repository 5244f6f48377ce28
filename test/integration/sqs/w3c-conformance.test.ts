/**
 * Every W3C conformance case (test/w3c/cases.json) SQS can carry: sent with a plain
 * SQSClient as raw String message attributes, received with `MessageAttributeNames: ['All']`
 * and handled by `traceSqsHandler`. One queue, one message per case, the case id as the body.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import { conformanceRun, describeNotApplicable, notApplicableIds } from '../w3c-kit.js';
import { createQueue, deleteQueue, useSqsTestbed } from './sqs-test-kit.js';

const { raw } = useSqsTestbed();

it('lists exactly the cases SQS cannot carry: repeated names, empty values', () => {
  console.log(describeNotApplicable('sqs'));
  expect(notApplicableIds('sqs')).toEqual([
    'tc.traceparent_duplicated.1',
    'tc.tracestate_empty_header.1',
    'tc.tracestate_empty_header.2',
    'tc.tracestate_empty_header.3',
    'tc.tracestate_multiple_headers_different_keys.1',
    'tc.tracestate_duplicated_keys.3',
    'tc.tracestate_duplicated_keys.4',
    'tc.tracestate_member_count_limit.1',
    'tc.tracestate_member_count_limit.2',
    'tc.tracestate_key_length_limit.1',
    'tc.tracestate_key_length_limit.2',
    'tc.tracestate_key_length_limit.3',
    'tc.tracestate_key_length_limit.4',
    'tc.tracestate_key_length_limit.5',
    'tc1data.4',
    'tc1data.45',
    'tc1data.46',
    'tc1data.47',
    'tc1data.48',
    'tc1data.49',
    'tc1data.65',
    'tc1data.66',
    'tc1data.67',
    'tc1data.68',
    'tc1data.69',
    'tc1data.70',
    'tc1data.71',
    'tc1data.72',
  ]);
});

it('every other case reaches the handler with the trace, tracestate and baggage W3C calls for', async () => {
  const run = conformanceRun('sqs');
  const queue = await createQueue(raw, 'w3c');
  try {
    const handle = traceSqsHandler(
      (message: Message) => {
        run.capture(message.Body ?? '');
      },
      { tracerProvider: run.tracerProvider, queueUrl: queue.url },
    );
    const startedAt = performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < run.cases.length; i += 10) {
      const batch = run.cases.slice(i, i + 10);
      sends.push(
        raw.send(
          new SendMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: batch.map((c, j) => ({
              Id: `m${String(j)}`,
              MessageBody: c.id,
              MessageAttributes: Object.fromEntries(
                c.headers.map(([name, value]): [string, MessageAttributeValue] => [
                  name,
                  { DataType: 'String', StringValue: value },
                ]),
              ),
            })),
          }),
        ),
      );
    }
    for (const result of await Promise.all(sends)) {
      expect((result as { Failed?: unknown[] }).Failed ?? []).toEqual([]);
    }
    let handled = 0;
    while (handled < run.cases.length) {
      const { Messages = [] } = await raw.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 2,
        }),
      );
      if (Messages.length === 0) throw new Error(`only ${String(handled)} messages arrived`);
      for (const message of Messages) handle(message);
      handled += Messages.length;
      await raw.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: Messages.map((m, j) => ({
            Id: `d${String(j)}`,
            ReceiptHandle: m.ReceiptHandle,
          })),
        }),
      );
    }
    await run.check(startedAt);
  } finally {
    await deleteQueue(raw, queue.url);
  }
});
