/**
 * SNS interop with @opentelemetry/instrumentation-aws-sdk 0.78, whose side runs in a child
 * process (official-sns-side.ts: it patches through require hooks). Both directions through
 * a real SNS → SQS subscription on the harness's server, and both on one SNS client.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PublishCommand } from '@aws-sdk/client-sns';
import { DeleteMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DISABLE_OFFICIAL_AWS_SDK, instrumentSnsClient } from '../../../adapters/sns/index.js';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import { named, only, parentId, spanId, traceId, useSqsTestbed } from '../sqs/sqs-test-kit.js';
import { createFanOut, newSnsClient, receiveMessages, type SubscribedQueue } from './sns-kit.js';

interface ChildSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  scope: string;
}

interface ChildOutput {
  result: unknown;
  spans: ChildSpan[];
  warnings: string[];
}

type Mode = 'publish' | 'both' | 'receive' | 'receive-payload';

const SIDE = fileURLToPath(new URL('./official-sns-side.ts', import.meta.url));
const OFFICIAL_SCOPE = '@opentelemetry/instrumentation-aws-sdk';

/** Runs the official side and returns what it printed. */
function runOfficialSide(mode: Mode, target: string): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SIDE, mode, inject('sqsEndpoint'), target],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`official side (${mode}) exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ChildOutput);
    });
  });
}

function childSpan(output: ChildOutput, predicate: (span: ChildSpan) => boolean): ChildSpan {
  const found = output.spans.filter(predicate);
  if (found.length !== 1) {
    throw new Error(`expected one span, have ${JSON.stringify(output.spans)}`);
  }
  return found[0] as ChildSpan;
}

const { tracing, raw, sqs } = useSqsTestbed();
const setup = newSnsClient();
const sns = instrumentSnsClient(newSnsClient());
afterAll(() => {
  setup.destroy();
  sns.destroy();
});

/** Receives one message through the instrumented SQS client and processes it with tracehop. */
async function consumeOne(queue: SubscribedQueue): Promise<void> {
  const [message] = await receiveMessages(sqs, queue.url, 1);
  await traceSqsHandler((received: Message) =>
    sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: received.ReceiptHandle }),
    ),
  )(message as Message);
}

describe('SNS interop with @opentelemetry/instrumentation-aws-sdk 0.78 (fauxqs)', () => {
  it('a message published by an SNS client it instruments is processed by tracehop as a child of its send span, raw-delivered and in an envelope', async () => {
    const fan = await createFanOut(raw, setup, 'from-official', [true, false]);
    try {
      const official = await runOfficialSide('publish', fan.topicArn);
      const officialSend = childSpan(official, (span) => span.kind === SpanKind.PRODUCER);
      expect(officialSend.scope).toBe(OFFICIAL_SCOPE);
      expect(officialSend.attributes['aws.sns.topic.arn']).toBe(fan.topicArn);

      for (const queue of fan.queues) await consumeOne(queue);
      const spans = await tracing.waitForSpans(
        (all) => all.filter((span) => span.kind === SpanKind.CONSUMER).length === 2,
      );
      for (const queue of fan.queues) {
        const process = only(spans, named(`process ${queue.name}`));
        expect(traceId(process)).toBe(officialSend.traceId);
        expect(parentId(process)).toBe(officialSend.spanId);
      }
    } finally {
      await fan.cleanup();
    }
  });

  it("tracehop's SNS messages, read by its SQS receive: raw-delivered ones are linked to tracehop's send span; an envelope only with sqsExtractContextPropagationFromPayload", async () => {
    const fan = await createFanOut(raw, setup, 'to-official', [true, false, false]);
    const [rawQueue, envelopeQueue, payloadQueue] = fan.queues as [
      SubscribedQueue,
      SubscribedQueue,
      SubscribedQueue,
    ];
    try {
      await trace.getTracer('test').startActiveSpan('POST /orders', async (span: Span) => {
        try {
          await sns.send(new PublishCommand({ TopicArn: fan.topicArn, Message: 'to official' }));
        } finally {
          span.end();
        }
      });
      const send = only(tracing.spans(), named(`send ${fan.topicName}`, SpanKind.PRODUCER));
      const sendLink = { traceId: traceId(send), spanId: spanId(send) };

      const [fromRaw, fromEnvelope, fromPayload] = await Promise.all([
        runOfficialSide('receive', rawQueue.url),
        runOfficialSide('receive', envelopeQueue.url),
        runOfficialSide('receive-payload', payloadQueue.url),
      ]);
      const receiveSpan = (output: ChildOutput): ChildSpan =>
        childSpan(output, (span) => span.attributes['messaging.operation.type'] === 'receive');
      for (const output of [fromRaw, fromEnvelope, fromPayload]) {
        const receive = receiveSpan(output);
        // What it records: a CONSUMER receive span in its own trace, never a child.
        expect(receive.kind).toBe(SpanKind.CONSUMER);
        expect(receive.parentSpanId).toBeUndefined();
        expect(receive.traceId).not.toBe(sendLink.traceId);
        expect(receive.attributes['messaging.batch.message_count']).toBe(1);
      }
      expect(receiveSpan(fromRaw).links).toEqual([sendLink]);
      expect(receiveSpan(fromEnvelope).links).toEqual([]);
      expect(receiveSpan(fromPayload).links).toEqual([sendLink]);
    } finally {
      await fan.cleanup();
    }
  });

  it("on an SNS client it also instruments, tracehop warns once with the line that turns it off, and the message carries tracehop's context", async () => {
    const fan = await createFanOut(raw, setup, 'both', [true]);
    const [queue] = fan.queues as [SubscribedQueue];
    try {
      const official = await runOfficialSide('both', fan.topicArn);
      expect(official.warnings).toHaveLength(1);
      expect(official.warnings[0]).toContain('SNS client');
      expect(official.warnings[0]).toContain(DISABLE_OFFICIAL_AWS_SDK);
      const ours = childSpan(official, (span) => span.scope === 'tracehop');
      const theirs = childSpan(official, (span) => span.scope === OFFICIAL_SCOPE);
      expect(ours.name).toBe(`send ${fan.topicName}`);
      expect(ours.parentSpanId).toBe(theirs.spanId);
      // It writes its own traceparent into the caller's input object; tracehop's copy replaces it.
      expect(official.result).toMatchObject({
        input: {
          MessageAttributes: {
            traceparent: { StringValue: `00-${theirs.traceId}-${theirs.spanId}-01` },
          },
        },
      });

      const [message] = await receiveMessages(raw, queue.url, 1, {
        MessageAttributeNames: ['All'],
      });
      expect(message?.MessageAttributes?.['traceparent']?.StringValue).toBe(
        `00-${ours.traceId}-${ours.spanId}-01`,
      );
    } finally {
      await fan.cleanup();
    }
  });
});
