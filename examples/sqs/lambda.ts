/**
 * The same worker as a Lambda function triggered by the queue. Deploy with the event source
 * mapping's `FunctionResponseTypes: ["ReportBatchItemFailures"]`, so that only the records
 * listed in `batchItemFailures` come back.
 */
import { traceLambdaSqsHandler, type LambdaSqsRecord } from '../../adapters/sqs/index.js';
import { chargeCard } from './worker.js';

export const handler = traceLambdaSqsHandler(async (record: LambdaSqsRecord) => {
  const { orderId } = JSON.parse(record.body) as { orderId: string };
  if (orderId === '') throw new Error('order without an id'); // reported in batchItemFailures
  await chargeCard(orderId);
});
