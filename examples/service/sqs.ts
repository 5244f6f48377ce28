/**
 * The SQS client both processes use, instrumented once by tracehop. Region and credentials come
 * from the environment as usual (AWS_REGION, AWS_ACCESS_KEY_ID…); SQS_ENDPOINT points it at a
 * local SQS server.
 */
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { instrumentSqsClient } from '../../adapters/sqs/index.js'; // in your service: 'tracehop/sqs'

export const sqs = instrumentSqsClient(new SQSClient({ endpoint: process.env['SQS_ENDPOINT'] }));

/** The URL of the orders queue (ORDERS_QUEUE, default `orders`), created if missing. */
export async function ordersQueueUrl(): Promise<string> {
  const name = process.env['ORDERS_QUEUE'] ?? 'orders';
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (QueueUrl === undefined) throw new Error(`SQS did not return a URL for queue ${name}`);
  return QueueUrl;
}
