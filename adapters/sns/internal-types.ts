/**
 * What tracehop reads and copies of an outgoing SNS message, described structurally over
 * `@aws-sdk/client-sns`'s own types. Never exported from `tracehop/sns`.
 *
 * @packageDocumentation
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sns';

/**
 * One outgoing SNS message: a `Publish` input or one `PublishBatch` entry (which has no
 * destination of its own: the batch's `TopicArn` names it). Every other member (`Id`,
 * `Subject`, `MessageStructure`, `MessageGroupId`, `MessageDeduplicationId`…) is carried
 * over untouched by the copy.
 */
export interface SnsOutgoingMessage {
  readonly TopicArn?: string | undefined;
  readonly TargetArn?: string | undefined;
  readonly PhoneNumber?: string | undefined;
  readonly Message?: string | undefined;
  readonly MessageAttributes?: Record<string, MessageAttributeValue> | undefined;
}
