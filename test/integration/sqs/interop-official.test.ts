/**
 * Interop with @opentelemetry/instrumentation-aws-sdk 0.78, whose side runs in a child
 * process (official-aws-sdk-side.ts: it patches through require hooks). Both directions,
 * and both on one client.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { describe, expect, inject, it } from 'vitest';
import { DISABLE_OFFICIAL_AWS_SDK, traceSqsHandler } from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  named,
  only,
  parentId,
  spanId,
  useSqsTestbed,
} from './sqs-test-kit.js';

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

const SIDE = fileURLToPath(new URL('./official-aws-sdk-side.ts', import.meta.url));

/** Runs the official side and returns what it printed. */
function runOfficialSide(
  mode: 'send' | 'receive' | 'both',
  queueUrl: string,
): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SIDE, mode, inject('sqsEndpoint'), queueUrl],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
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
  if (found.length !== 1)
    throw new Error(`expected one span, have ${JSON.stringify(output.spans)}`);
  return found[0] as ChildSpan;
}

const { tracing, raw, sqs } = useSqsTestbed();

describe('interop with @opentelemetry/instrumentation-aws-sdk 0.78 (fauxqs)', () => {
  it('a message sent by a client it instruments is processed by tracehop as a child of its send span', async () => {
    const queue = await createQueue(raw, 'from-official');
    try {
      const official = await runOfficialSide('send', queue.url);
      const officialSend = childSpan(official, (span) => span.kind === SpanKind.PRODUCER);
      expect(officialSend.scope).toBe('@opentelemetry/instrumentation-aws-sdk');

      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }),
      );
      await traceSqsHandler((message: Message) =>
        sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
        ),
      )(Messages[0] as Message);

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const receive = only(spans, named(`receive ${queue.name}`));
      const process = only(spans, named(`process ${queue.name}`));
      expect(process.spanContext().traceId).toBe(officialSend.traceId);
      expect(parentId(process)).toBe(officialSend.spanId);
      expect(receive.links.map((link) => link.context.spanId)).toEqual([officialSend.spanId]);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it("tracehop's messages are understood by it: its receive span links to tracehop's send span", async () => {
    const queue = await createQueue(raw, 'to-official');
    try {
      await trace.getTracer('test').startActiveSpan('POST /orders', async (span: Span) => {
        try {
          await sqs.send(
            new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'to official' }),
          );
        } finally {
          span.end();
        }
      });
      const send = only(tracing.spans(), named(`send ${queue.name}`));
      const official = await runOfficialSide('receive', queue.url);
      const officialReceive = childSpan(
        official,
        (span) => span.attributes['messaging.operation.type'] === 'receive',
      );
      expect(officialReceive.links).toEqual([
        { traceId: send.spanContext().traceId, spanId: spanId(send) },
      ]);
      expect(officialReceive.attributes['messaging.batch.message_count']).toBe(1);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it("on a client it also instruments, tracehop warns once with the line that turns it off, and the message carries tracehop's context", async () => {
    const queue = await createQueue(raw, 'both');
    try {
      const official = await runOfficialSide('both', queue.url);
      expect(official.warnings).toHaveLength(1);
      expect(official.warnings[0]).toContain(DISABLE_OFFICIAL_AWS_SDK);
      const ours = childSpan(official, (span) => span.scope === 'tracehop');
      const theirs = childSpan(
        official,
        (span) => span.scope === '@opentelemetry/instrumentation-aws-sdk',
      );
      expect(ours.parentSpanId).toBe(theirs.spanId);

      const { Messages = [] } = await raw.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          WaitTimeSeconds: 5,
          MessageAttributeNames: ['All'],
        }),
      );
      expect(Messages[0]?.MessageAttributes?.['traceparent']?.StringValue).toBe(
        `00-${ours.traceId}-${ours.spanId}-01`,
      );
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});
