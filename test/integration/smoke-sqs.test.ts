import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { expect, inject, it } from 'vitest';
import { TRACEPARENT } from './traceparent.js';

it('SQS carries a traceparent message attribute through unchanged (raw client-sqs)', async () => {
  const sqs = new SQSClient({
    endpoint: inject('sqsEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `tracehop-smoke-${randomUUID()}` }),
  );
  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'smoke',
        MessageAttributes: { traceparent: { DataType: 'String', StringValue: TRACEPARENT } },
      }),
    );

    // long poll: returns as soon as the message is there
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 20,
      }),
    );
    expect(Messages).toHaveLength(1);
    const message = Messages?.[0];
    const attribute = message?.MessageAttributes?.['traceparent'];
    expect(attribute?.DataType).toBe('String');
    expect(attribute?.StringValue).toBe(TRACEPARENT);
    expect(message?.Body).toBe('smoke');

    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message?.ReceiptHandle }));
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    sqs.destroy();
  }
});
