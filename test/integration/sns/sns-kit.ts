/**
 * Shared pieces of the SNS → SQS integration tests: an SNS client for the harness's server
 * (fauxqs speaks SNS on the same endpoint as SQS), a topic fanned out to SQS queues with and
 * without raw message delivery, a receive loop that waits on SQS long polls, and a recorder
 * of the Publish requests a client really sends (form-encoded, AWS query protocol).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type ReceiveMessageRequest,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { createQueue, deleteQueue, REGION } from '../sqs/sqs-test-kit.js';

export function newSnsClient(endpoint: string = inject('sqsEndpoint')): SNSClient {
  return new SNSClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** An SQS queue subscribed to the topic. */
export interface SubscribedQueue {
  readonly url: string;
  readonly name: string;
  /** Whether the subscription has `RawMessageDelivery=true`. */
  readonly rawDelivery: boolean;
}

export interface FanOut {
  readonly topicArn: string;
  readonly topicName: string;
  readonly queues: readonly SubscribedQueue[];
  /** Deletes the topic and the queues. */
  cleanup(): Promise<void>;
}

/**
 * A new topic with one SQS queue subscribed per entry of `rawDelivery`: `true` for raw
 * message delivery (SNS message attributes become SQS message attributes, the body is the
 * message), `false` for the default (the body is SNS's JSON envelope).
 */
export async function createFanOut(
  sqs: SQSClient,
  sns: SNSClient,
  prefix: string,
  rawDelivery: readonly boolean[],
): Promise<FanOut> {
  const topicName = `tracehop-${prefix}-${randomUUID().slice(0, 8)}`;
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: topicName }));
  if (TopicArn === undefined) throw new Error(`no ARN for topic ${topicName}`);
  const queues: SubscribedQueue[] = [];
  for (const [index, raw] of rawDelivery.entries()) {
    const queue = await createQueue(sqs, `${prefix}-${raw ? 'raw' : 'envelope'}-${index}`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        ...(raw ? { Attributes: { RawMessageDelivery: 'true' } } : {}),
      }),
    );
    queues.push({ ...queue, rawDelivery: raw });
  }
  return {
    topicArn: TopicArn,
    topicName,
    queues,
    async cleanup() {
      for (const queue of queues) await deleteQueue(sqs, queue.url);
      await sns.send(new DeleteTopicCommand({ TopicArn }));
    },
  };
}

/**
 * Receives until `count` messages came from the queue, each call a long poll (it returns as
 * soon as messages are there). Fails after `maxPolls` polls that together brought too few.
 */
export async function receiveMessages(
  client: SQSClient,
  queueUrl: string,
  count: number,
  extra: Partial<ReceiveMessageRequest> = {},
  maxPolls = 5,
): Promise<Message[]> {
  const messages: Message[] = [];
  for (let poll = 0; poll < maxPolls && messages.length < count; poll++) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - messages.length),
        WaitTimeSeconds: 5,
        ...extra,
      }),
    );
    messages.push(...Messages);
  }
  if (messages.length < count) {
    throw new Error(`expected ${count} messages from ${queueUrl}, received ${messages.length}`);
  }
  return messages;
}

/** One Publish request as the client serialized it (AWS query protocol, form-encoded). */
export interface SentPublish {
  /** `Publish` or `PublishBatch`. */
  readonly action: string;
  /** The form fields, decoded. */
  readonly fields: URLSearchParams;
}

/**
 * Records every request `client` sends, exactly as serialized (a `build`-step middleware:
 * after tracehop's `initialize` step and serialization, before signing and sending).
 */
export function recordSnsRequests(client: SNSClient): SentPublish[] {
  const requests: SentPublish[] = [];
  client.middlewareStack.add(
    (next) => (args) => {
      const body = (args.request as { body?: unknown }).body;
      const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body);
      const fields = new URLSearchParams(text);
      requests.push({ action: fields.get('Action') ?? '', fields });
      return next(args);
    },
    { step: 'build', name: `recordSnsRequests-${randomUUID()}` },
  );
  return requests;
}

/** The message attribute names of a serialized `Publish` request. */
export function serializedAttributeNames(request: SentPublish): string[] {
  const names: string[] = [];
  for (const [key, value] of request.fields) {
    if (/^MessageAttributes\.entry\.\d+\.Name$/.test(key)) names.push(value);
  }
  return names;
}
