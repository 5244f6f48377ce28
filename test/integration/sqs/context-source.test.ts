/**
 * An old producer (plain SQS client, trace context hand-rolled into a JSON body field) →
 * consumers switched to tracehop with `contextSource: fromBodyField('traceContext')`, on
 * the real SQS server (fauxqs): `traceSqsHandler` over messages received through an
 * instrumented client, and `traceLambdaSqsHandler` over event records built from messages
 * received raw, as Lambda's event source mapping presents them. The trace continues;
 * malformed, non-JSON and oversized bodies are processed on new traces, said once; a
 * message with standard headers never asks a source.
 */
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  traceLambdaSqsHandler,
  traceSqsHandler,
  type LambdaSqsRecord,
} from '../../../adapters/sqs/index.js';
import { captureDiagWarnings } from '../../../src/testing/index.js';
import {
  expectOldProducerOutcome,
  OLD_MESSAGES,
  probe,
  watchParse,
} from '../context-source-kit.js';
import { createQueue, deleteQueue, REGION, useSqsTestbed } from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const diagWarnings = captureDiagWarnings();
beforeEach(() => diagWarnings.start());
afterEach(() => diagWarnings.stop());

/** Sends every old message with the plain client: body, a `case` attribute, nothing else. */
async function sendOldMessages(url: string): Promise<void> {
  for (const old of OLD_MESSAGES) {
    const attributes: Record<string, MessageAttributeValue> = {
      case: { DataType: 'String', StringValue: old.id },
    };
    for (const [name, value] of Object.entries(old.traceHeaders ?? {})) {
      attributes[name] = { DataType: 'String', StringValue: value };
    }
    await raw.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: old.body,
        MessageAttributes: attributes,
      }),
    );
  }
}

async function receiveAll(client: SQSClient, url: string): Promise<Message[]> {
  const all: Message[] = [];
  while (all.length < OLD_MESSAGES.length) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) throw new Error(`only ${all.length} messages arrived`);
    all.push(...Messages);
  }
  return all;
}

/** The `process` span each case's handler ran in. */
async function spansByCase(
  name: string,
  ranIn: ReadonlyMap<string, string | undefined>,
): Promise<Map<string, ReadableSpan>> {
  const all = await tracing.waitForSpans(
    (s) => s.filter((x) => x.name === name).length === OLD_MESSAGES.length,
  );
  const spans = new Map<string, ReadableSpan>();
  for (const [id, spanId] of ranIn) {
    const found = all.find((s) => s.name === name && s.spanContext().spanId === spanId);
    if (found !== undefined) spans.set(id, found);
  }
  return spans;
}

describe('an old producer that puts the context in the body', () => {
  it('traceSqsHandler: continued from the body field; bad bodies on new traces, said once; headers first', async () => {
    const queue = await createQueue(raw, 'context-source');
    try {
      await sendOldMessages(queue.url);
      const messages = await receiveAll(sqs, queue.url);
      const caseOf = (m: Message) => m.MessageAttributes?.['case']?.StringValue;
      const { sources, consulted } = probe<Message>(caseOf);
      const ranIn = new Map<string, string | undefined>();
      const handle = traceSqsHandler(
        async (message: Message) => {
          await Promise.resolve();
          ranIn.set(caseOf(message) ?? '?', trace.getActiveSpan()?.spanContext().spanId);
        },
        { contextSource: sources },
      );
      const parse = watchParse();
      for (const message of messages) await handle(message);
      const parsed = parse.stop();
      expectOldProducerOutcome({
        system: 'aws.sqs',
        spans: await spansByCase(`process ${queue.name}`, ranIn),
        consulted,
        parsed,
        warnings: diagWarnings.messages,
      });
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('traceLambdaSqsHandler: the same, for event records', async () => {
    const queue = await createQueue(raw, 'context-source-lambda');
    try {
      await sendOldMessages(queue.url);
      const { Attributes } = await raw.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn ?? '';
      const records = (await receiveAll(raw, queue.url)).map((m) => toLambdaRecord(m, arn));
      const caseOf = (r: LambdaSqsRecord) => r.messageAttributes['case']?.stringValue;
      const { sources, consulted } = probe<LambdaSqsRecord>(caseOf);
      const ranIn = new Map<string, string | undefined>();
      const handler = traceLambdaSqsHandler(
        (record: LambdaSqsRecord) => {
          ranIn.set(caseOf(record) ?? '?', trace.getActiveSpan()?.spanContext().spanId);
        },
        { contextSource: sources, flushTimeoutMs: 0 },
      );
      const parse = watchParse();
      const response = await handler({ Records: records }, undefined);
      const parsed = parse.stop();
      expect(response).toEqual({ batchItemFailures: [] });
      expectOldProducerOutcome({
        system: 'aws.sqs',
        spans: await spansByCase(`process ${queue.name}`, ranIn),
        consulted,
        parsed,
        warnings: diagWarnings.messages,
      });
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});

/** A received SDK message as Lambda's SQS event source mapping delivers it. */
function toLambdaRecord(message: Message, queueArn: string): LambdaSqsRecord {
  const messageAttributes: LambdaSqsRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      stringValue: value.StringValue,
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes },
    messageAttributes,
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}
