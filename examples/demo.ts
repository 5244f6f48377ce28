/**
 * The demo: an HTTP API enqueues an order, a worker processes it later, and a cron
 * job runs on its own root trace linked to the previous run. Printed as trace trees.
 *
 *   npm run demo
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { scheduledJob, traceLogFields } from '../src/index.js';
import { setupTestTracing } from '../src/testing/index.js';
import { MemoryQueue, type MemoryMessage } from './memory-queue/memory-queue.js';
import { traceMemoryQueue } from './memory-queue/traced-memory-queue.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('demo');
const log = (message: string) => console.log(JSON.stringify({ message, ...traceLogFields() }));

const queue = traceMemoryQueue(new MemoryQueue());
const processed = new Promise<void>((resolve) => {
  queue.consume('orders', async (message: MemoryMessage) => {
    log(`worker: processing order ${message.body}`);
    await tracer.startActiveSpan('charge card', async (span) => {
      await new Promise((r) => setTimeout(r, 5));
      span.end();
    });
    queue.ack(message);
    resolve();
  });
});

const server = createServer((req: IncomingMessage, res) => {
  const incoming = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(
    `${req.method ?? 'GET'} /orders`,
    { kind: SpanKind.SERVER },
    incoming,
  );
  context.with(trace.setSpan(incoming, span), () => {
    log('api: order accepted');
    queue.send({ queue: 'orders', body: 'order-42', headers: {} });
    res.writeHead(202).end();
    span.end();
  });
});

async function main(): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, method: 'POST', path: '/orders' }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  await processed;
  server.close();

  const nightly = scheduledJob('nightly-report', async () => {
    log('cron: building report');
    await tracer.startActiveSpan('query orders', async (span) => {
      await new Promise((r) => setTimeout(r, 2));
      span.end();
    });
  });
  await nightly();
  await nightly();

  await tracing.waitForSpans(
    (spans) => spans.filter((s) => s.name === 'nightly-report').length === 2,
  );
  console.log('\n' + tracing.tree());
  await tracing.shutdown();
}

await main();
