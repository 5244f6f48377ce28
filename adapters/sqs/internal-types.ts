/**
 * The small part of the AWS SDK v3 (smithy) middleware stack tracehop uses, described
 * structurally so that any `@aws-sdk/client-sqs` v3 version fits and no `@smithy/*`
 * package is needed for the types. Never exported.
 *
 * @packageDocumentation
 */
import type {
  MessageAttributeValue,
  MessageSystemAttributeNameForSends,
  MessageSystemAttributeValue,
} from '@aws-sdk/client-sqs';

/** What an `initialize` step middleware receives: the command's input. */
export interface InitializeArgs {
  readonly input: object;
}

/** What the rest of the stack answers: the deserialized output and the raw response. */
export interface InitializeResult {
  readonly output: object;
  readonly response: unknown;
}

export type InitializeHandler = (args: InitializeArgs) => Promise<InitializeResult>;

/** The execution context the SDK builds for every command. */
export interface HandlerContext {
  /** `SendMessageCommand`, `ReceiveMessageCommand`… */
  readonly commandName?: string;
}

export type InitializeMiddleware = (
  next: InitializeHandler,
  context: HandlerContext,
) => InitializeHandler;

/** The options tracehop adds its middleware with. */
export interface InitializeMiddlewareOptions {
  readonly step: 'initialize';
  readonly name: string;
  readonly priority: 'high';
  readonly tags: string[];
  readonly override: boolean;
}

/** A client's middleware stack, as far as tracehop uses it. */
export interface MiddlewareStackLike {
  add(middleware: InitializeMiddleware, options: InitializeMiddlewareOptions): void;
}

/** What `$metadata` says about a call (outputs and SDK errors both carry it). */
export interface ResponseMetadataHolder {
  readonly $metadata?: { readonly requestId?: unknown };
}

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
