/**
 * SNS → SQS without raw message delivery: the SQS body is SNS's JSON envelope and the
 * publisher's trace context is in the envelope's `MessageAttributes`. Two producers:
 * an envelope built exactly as AWS documents it, sent through fauxqs's SQS; and fauxqs's
 * own SNS fan-out to an SQS subscription, published with the real `@aws-sdk/client-sns`.
 */
import {
  CreateTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { context as contextApi, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import { describe, expect, inject, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  linkedIds,
  named,
  only,
  parentId,
  REGION,
  spanId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:orders';

/** The trace fields of the active context, as SNS `MessageAttributes` entries. */
function snsAttributes(): Record<string, { Type: string; Value: string }> {
  const fields: Record<string, string> = {};
  propagation.inject(contextApi.active(), fields);
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [name, { Type: 'String', Value: value }]),
  );
}

/**
 * An SNS notification as SNS delivers it to an SQS subscription without raw message
 * delivery (the format of https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html,
 * spacing included).
 */
function snsEnvelope(
  message: string,
  attributes: Record<string, { Type: string; Value: string }>,
): string {
  const rendered = Object.entries(attributes)
    .map(([name, value]) => `    "${name}" : {"Type":"${value.Type}","Value":"${value.Value}"}`)
    .join(',\n');
  return `{
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "${TOPIC_ARN}",
  "Subject" : "order placed",
  "Message" : ${JSON.stringify(message)},
  "Timestamp" : "2012-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
  "SigningCertURL" : "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  "UnsubscribeURL" : "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:c9135db0-26c4-47ec-8998-413945fb5a96",
  "MessageAttributes" : {
${rendered}
  }
}`;
}

/** Receives one message with the instrumented client and processes it. */
async function receiveAndProcess(queueUrl: string): Promise<Message> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }),
  );
  const message = Messages[0] as Message;
  await traceSqsHandler((received: Message) =>
    sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.ReceiptHandle }),
    ),
  )(message);
  return message;
}

function publishSpan<T>(fn: () => Promise<T>): Promise<T> {
  return trace
    .getTracer('publisher')
    .startActiveSpan('publish orders', { kind: SpanKind.PRODUCER }, async (span: Span) => {
      try {
        return await fn();
      } finally {
        span.end();
      }
    });
}

describe('SNS envelopes (fauxqs)', () => {
  it('an SNS envelope built as AWS documents it: processed as a child of the publishing span', async () => {
    const queue = await createQueue(raw, 'sns-doc');
    try {
      await publishSpan(() =>
        raw.send(
          new SendMessageCommand({
            QueueUrl: queue.url,
            MessageBody: snsEnvelope('{"orderId":42}', snsAttributes()),
          }),
        ),
      );
      const message = await receiveAndProcess(queue.url);
      expect(message.MessageAttributes).toBeUndefined();

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const publish = only(spans, named('publish orders'));
      const receive = only(spans, named(`receive ${queue.name}`));
      const process = only(spans, named(`process ${queue.name}`));
      expect(parentId(process)).toBe(spanId(publish));
      expect(linkedIds(receive)).toEqual([spanId(publish)]);
      expect(process.attributes['aws.sns.topic.arn']).toBe(TOPIC_ARN);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });

  it('fauxqs SNS fan-out to an SQS subscription (real @aws-sdk/client-sns publish): processed as a child of the publishing span', async () => {
    const queue = await createQueue(raw, 'sns-fanout');
    const sns = new SNSClient({
      endpoint: inject('sqsEndpoint'),
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${queue.name}-topic` }));
      const { Attributes } = await raw.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }),
      );
      await sns.send(
        new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
      );
      await publishSpan(() =>
        sns.send(
          new PublishCommand({
            TopicArn,
            Message: '{"orderId":43}',
            MessageAttributes: Object.fromEntries(
              Object.entries(snsAttributes()).map(([name, { Value }]) => [
                name,
                { DataType: 'String', StringValue: Value },
              ]),
            ),
          }),
        ),
      );
      const message = await receiveAndProcess(queue.url);
      expect(JSON.parse(message.Body ?? '{}')).toMatchObject({ Type: 'Notification', TopicArn });

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const publish = only(spans, named('publish orders'));
      const process = only(spans, named(`process ${queue.name}`));
      expect(parentId(process)).toBe(spanId(publish));
      expect(process.attributes['aws.sns.topic.arn']).toBe(TopicArn);
    } finally {
      sns.destroy();
      await deleteQueue(raw, queue.url);
    }
  });
});
