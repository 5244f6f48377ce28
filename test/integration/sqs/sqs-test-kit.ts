/**
 * Shared pieces of the SQS integration tests: clients pointed at the harness's SQS
 * server (fauxqs), unique queues, a recorder of the requests a client really sends, and
 * span lookups. No mocks: every call goes to the real server.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { diag, DiagLogLevel, SpanKind, type DiagLogger } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, expect, inject } from 'vitest';
import { instrumentSqsClient } from '../../../adapters/sqs/index.js';
import { setupTestTracing, type TestTracing } from '../../../src/testing/index.js';

export const REGION = 'us-east-1';

/** A raw client for the harness's SQS server (or another endpoint). */
/**
 * What most SQS integration test files share: in-memory tracing, a plain client for setting
 * up queues, and an instrumented one. After each test no span may be left open; after the
 * file, both clients are closed and the tracing shut down.
 */
export function useSqsTestbed(): { tracing: TestTracing; raw: SQSClient; sqs: SQSClient } {
  const tracing = setupTestTracing();
  const raw = newClient();
  const sqs = instrumentSqsClient(newClient());
  afterEach(() => {
    expect(tracing.openSpans()).toEqual([]);
    tracing.reset();
  });
  afterAll(async () => {
    raw.destroy();
    sqs.destroy();
    await tracing.shutdown();
  });
  return { tracing, raw, sqs };
}

export function newClient(endpoint: string = inject('sqsEndpoint')): SQSClient {
  return new SQSClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** Creates a queue with a unique name; FIFO when the attributes say so. */
export async function createQueue(
  client: SQSClient,
  prefix: string,
  attributes: Partial<Record<QueueAttributeName, string>> = {},
): Promise<{ url: string; name: string }> {
  const fifo = attributes.FifoQueue === 'true';
  const name = `tracehop-${prefix}-${randomUUID().slice(0, 8)}${fifo ? '.fifo' : ''}`;
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (QueueUrl === undefined) throw new Error(`no URL for queue ${name}`);
  return { url: QueueUrl, name };
}

export async function deleteQueue(client: SQSClient, url: string): Promise<void> {
  await client.send(new DeleteQueueCommand({ QueueUrl: url }));
}

/** Messages in the queue, visible or in flight. */
export async function messagesLeft(client: SQSClient, url: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** One request as the client serialized it for the wire (AWS JSON 1.0). */
export interface SentRequest {
  /** `SendMessage`, `ReceiveMessage`… (from `X-Amz-Target`). */
  readonly operation: string;
  /** The JSON body, parsed. */
  readonly body: Record<string, unknown>;
}

interface SerializedRequest {
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Records every request `client` sends, exactly as serialized (a `build`-step middleware:
 * after tracehop's `initialize` step and serialization, before signing and sending).
 * `sent` resolves whenever a request of the given operation is about to leave.
 */
export function recordRequests(client: SQSClient): {
  readonly requests: SentRequest[];
  sent(operation: string): Promise<SentRequest>;
} {
  const requests: SentRequest[] = [];
  const waiting: { operation: string; resolve: (request: SentRequest) => void }[] = [];
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as SerializedRequest;
      const target = request.headers?.['x-amz-target'] ?? '';
      const recorded: SentRequest = {
        operation: target.slice(target.indexOf('.') + 1),
        body: parseBody(request.body),
      };
      requests.push(recorded);
      for (const waiter of [...waiting]) {
        if (waiter.operation !== recorded.operation) continue;
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(recorded);
      }
      return next(args);
    },
    { step: 'build', name: `recordRequests-${randomUUID()}` },
  );
  return {
    requests,
    sent: (operation) => new Promise((resolve) => waiting.push({ operation, resolve })),
  };
}

const utf8 = new TextDecoder();

/** The SDK serializes the JSON body as a string or as UTF-8 bytes, depending on the version. */
function parseBody(body: unknown): Record<string, unknown> {
  const text = body instanceof Uint8Array ? utf8.decode(body) : body;
  return typeof text === 'string' && text !== ''
    ? (JSON.parse(text) as Record<string, unknown>)
    : {};
}

/** Collects tracehop's diag warnings. */
export function captureDiag(): { warnings: string[]; restore(): void } {
  const warnings: string[] = [];
  const logger: DiagLogger = {
    error: () => undefined,
    warn: (message) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  return { warnings, restore: () => diag.disable() };
}

/** The one span matching, or a failure naming what there was. */
export function only(
  spans: readonly ReadableSpan[],
  predicate: (span: ReadableSpan) => boolean,
): ReadableSpan {
  const found = spans.filter(predicate);
  if (found.length !== 1) {
    throw new Error(
      `expected one matching span, found ${found.length} among: ${spans.map((s) => s.name).join(', ')}`,
    );
  }
  return found[0] as ReadableSpan;
}

export const named =
  (name: string, kind?: SpanKind) =>
  (span: ReadableSpan): boolean =>
    span.name === name && (kind === undefined || span.kind === kind);

export function spanId(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

export function traceId(span: ReadableSpan): string {
  return span.spanContext().traceId;
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** The span ids a span links to. */
export function linkedIds(span: ReadableSpan): string[] {
  return span.links.map((link) => link.context.spanId);
}
