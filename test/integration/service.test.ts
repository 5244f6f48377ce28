/**
 * examples/service as a user runs it: an API process and a worker process, each started with
 * `node --import tsx --import ./examples/service/otel.ts …` (NodeSDK, auto-instrumentations with
 * HTTP on and the amqplib and aws-sdk instrumentations off, OTLP/HTTP export configured by OTEL_*
 * variables), against the run's SQS server, exporting to an OTLP receiver in this test. The API
 * exports in protobuf (the default), the worker in JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json).
 *
 * One `POST /orders` must arrive as one trace across both processes: the HTTP instrumentation's
 * SERVER span → tracehop's `send` → the worker's `process` → the handler's own span, each span
 * once, and the worker's log line carries the trace id.
 */
import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import {
  cleanEnv,
  startNodeProcess,
  unlessDied,
  type LogLine,
  type NodeProcess,
} from './node-process.js';
import {
  describeSpans,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver.js';

const QUEUE = `tracehop-service-${randomUUID().slice(0, 8)}`;
const OTEL_SETUP = './examples/service/otel.ts';

let receiver: OtlpReceiver;
let api: NodeProcess;
let worker: NodeProcess;

function serviceEnv(serviceName: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    SQS_ENDPOINT: inject('sqsEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ORDERS_QUEUE: QUEUE,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '50', // export within 50 ms, not the default 5 s
    ...extra,
  };
}

const text = (line: LogLine, key: string) =>
  typeof line[key] === 'string' ? line[key] : undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  worker = startNodeProcess('the worker', 'examples/service/worker.ts', {
    imports: [OTEL_SETUP],
    env: serviceEnv('orders-worker', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
  });
  api = startNodeProcess('the API', 'examples/service/api.ts', {
    imports: [OTEL_SETUP],
    env: serviceEnv('orders-api', { PORT: '0' }),
  });
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await receiver?.close();
  const sqs = new SQSClient({
    endpoint: inject('sqsEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const { QueueUrl } = await sqs
    .send(new GetQueueUrlCommand({ QueueName: QUEUE }))
    .catch(() => ({ QueueUrl: undefined }));
  if (QueueUrl !== undefined) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  sqs.destroy();
});

it('one POST /orders is one trace from the HTTP server span to the worker’s own span', async () => {
  const port = await unlessDied(
    api.waitForLog('"listening" line', (line) =>
      line['msg'] === 'listening' ? Number(line['port']) : undefined,
    ),
    api,
    worker,
  );
  await unlessDied(
    worker.waitForLog('"polling" line', (line) => (line['msg'] === 'polling' ? true : undefined)),
    api,
    worker,
  );

  const response = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST' });
  expect(response.status).toBe(202);
  const { orderId } = (await response.json()) as { orderId: string };

  // The worker's log line, written inside the handler's span by the pino mixin traceLogFields().
  const workerLine = await unlessDied(
    worker.waitForLog(`log line for ${orderId}`, (line) =>
      line['orderId'] === orderId && line['msg'] === 'charging the card' ? line : undefined,
    ),
    api,
    worker,
  );
  const traceId = text(workerLine, 'trace_id');
  expect(traceId, 'the worker log line carries a trace_id').toMatch(/^[0-9a-f]{32}$/);

  const find = (spans: readonly ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean) =>
    spans.filter((span) => span.traceId === traceId && predicate(span));
  const expected = {
    server: (s: ReceivedSpan) => s.kind === 'server' && s.service === 'orders-api',
    send: (s: ReceivedSpan) => s.name === `send ${QUEUE}`,
    process: (s: ReceivedSpan) => s.name === `process ${QUEUE}`,
    charge: (s: ReceivedSpan) => s.name === 'charge card',
  };
  const spans = await unlessDied(
    receiver.waitFor(`trace ${traceId} with server, send, process and charge card spans`, (all) =>
      Object.values(expected).every((predicate) => find(all, predicate).length > 0)
        ? all
        : undefined,
    ),
    api,
    worker,
  );
  const trace = spans.filter((span) => span.traceId === traceId);
  const context = `received:\n${describeSpans(spans)}`;

  // Each of the four exactly once, in one parent chain.
  const [server, send, processSpan, charge] = Object.values(expected).map((predicate) => {
    const matching = find(spans, predicate);
    expect(matching, context).toHaveLength(1);
    return matching[0] as ReceivedSpan;
  }) as [ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan];

  expect(server, context).toMatchObject({
    scope: '@opentelemetry/instrumentation-http',
    parentSpanId: undefined,
    encoding: 'protobuf',
  });
  expect([server.attributes['url.path'], server.attributes['http.target']]).toContain('/orders');
  expect(send, context).toMatchObject({
    service: 'orders-api',
    scope: 'tracehop',
    kind: 'producer',
    parentSpanId: server.spanId,
    encoding: 'protobuf',
  });
  expect(processSpan, context).toMatchObject({
    service: 'orders-worker',
    scope: 'tracehop',
    kind: 'consumer',
    parentSpanId: send.spanId,
    links: [{ traceId, spanId: send.spanId }],
    encoding: 'json',
  });
  expect(charge, context).toMatchObject({
    service: 'orders-worker',
    scope: 'orders-worker',
    kind: 'internal',
    parentSpanId: processSpan.spanId,
    encoding: 'json',
  });
  // The SQS call itself is an HTTP CLIENT span of the http instrumentation, under `send`.
  expect(
    trace.some(
      (s) =>
        s.kind === 'client' &&
        s.scope === '@opentelemetry/instrumentation-http' &&
        s.parentSpanId === send.spanId,
    ),
    context,
  ).toBe(true);

  // Two services, named by OTEL_SERVICE_NAME: the API's spans and the worker's.
  expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['orders-api', 'orders-worker']));

  // No double spans: the message got one producer and one consumer span in all that arrived, and
  // nothing came from the official aws-sdk or amqplib instrumentations.
  const messageId = processSpan.attributes['messaging.message.id'];
  expect(messageId, context).toEqual(expect.any(String));
  const forMessage = spans.filter((s) => s.attributes['messaging.message.id'] === messageId);
  expect(forMessage.filter((s) => s.kind === 'producer').map((s) => s.spanId)).toEqual([
    send.spanId,
  ]);
  expect(forMessage.filter((s) => s.kind === 'consumer').map((s) => s.spanId)).toEqual([
    processSpan.spanId,
  ]);
  expect(
    spans.filter(
      (s) =>
        s.scope === '@opentelemetry/instrumentation-aws-sdk' ||
        s.scope === '@opentelemetry/instrumentation-amqplib' ||
        s.attributes['rpc.system'] === 'aws-api',
    ),
    context,
  ).toEqual([]);
  expect(trace.filter((s) => s.kind === 'producer' || s.kind === 'consumer')).toHaveLength(2);

  // The log lines: the worker's inside "charge card", the API's inside its SERVER span.
  expect(text(workerLine, 'span_id')).toBe(charge.spanId);
  const apiLine = await api.waitForLog(`"order accepted" line for ${orderId}`, (line) =>
    line['orderId'] === orderId ? line : undefined,
  );
  expect(text(apiLine, 'trace_id')).toBe(traceId);
  expect(text(apiLine, 'span_id')).toBe(server.spanId);
});
