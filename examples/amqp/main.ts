/**
 * API → RabbitMQ → worker, in one process, printed as one trace.
 *
 *   RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672 tsx examples/amqp/main.ts
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'amqplib';
import { setupTestTracing } from '../../src/testing/index.js';
import { startApi } from './api.js';
import { startWorker } from './worker.js';

// In a service: the OpenTelemetry SDK. Here: spans in memory, printed at the end.
const tracing = setupTestTracing();
const url = process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const queue = 'tracehop-example-orders';

const connection = await connect(url);
let processed: (orderId: string) => void = () => undefined;
const done = new Promise<string>((resolve) => (processed = resolve));
const stopWorker = await startWorker(connection, queue, processed);
const server = await startApi(connection, queue);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

await new Promise<void>((resolve, reject) => {
  request({ host: '127.0.0.1', port, method: 'POST', path: '/orders' }, (res) => {
    res.resume().on('end', resolve);
  })
    .on('error', reject)
    .end();
});
console.log(`processed ${await done}\n`);
server.close();
await stopWorker();
await connection.close();
console.log(tracing.tree());
await tracing.shutdown();
