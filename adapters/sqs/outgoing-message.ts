import type {
  MessageAttributeValue,
  MessageSystemAttributeNameForSends,
  MessageSystemAttributeValue,
} from '@aws-sdk/client-sqs';

/**
 * What tracehop reads and copies of one outgoing SQS message: a `SendMessage` input or
 * one `SendMessageBatch` entry. Every other member (`Id`, `DelaySeconds`,
 * `MessageGroupId`, `MessageDeduplicationId`…) is carried over untouched by the copy.
 */
export interface SqsOutgoingMessage {
  readonly QueueUrl?: string | undefined;
  readonly MessageBody?: string | undefined;
  readonly MessageAttributes?: Record<string, MessageAttributeValue> | undefined;
  readonly MessageSystemAttributes?:
    Partial<Record<MessageSystemAttributeNameForSends, MessageSystemAttributeValue>> | undefined;
}
