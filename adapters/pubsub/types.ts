import type { ConsumerOptions, HandlerErrorOptions, TracingOptions } from '../../src/options.js';

/**
 * The fields of a message to publish that tracehop reads: what `Topic#publishMessage`
 * takes. The real `MessageOptions` of `@google-cloud/pubsub` fits this shape.
 */
export interface PubSubOutgoingMessage {
  readonly data?: Uint8Array | null;
  readonly attributes?: Readonly<Record<string, string>> | null;
  readonly orderingKey?: string | null;
  readonly json?: unknown;
}

/** What `publishMessage` calls back with when given a callback. */
export type PubSubPublishCallback = (
  error: Error | null | undefined,
  messageId?: string | null,
) => void;

/** The publishing half of a `Publisher` (`topic.publisher`), where every publish ends up. */
export interface PubSubPublisher {
  publishMessage(message: PubSubOutgoingMessage): Promise<string>;
  publishMessage(message: PubSubOutgoingMessage, callback: PubSubPublishCallback): void;
}

/**
 * The parts of a `Topic` tracehop uses. `publishMessage`, `publish`, `publishJSON` and
 * `flowControlled()` all publish through `topic.publisher`, which is where tracehop
 * traces them.
 */
export interface PubSubTopic {
  /** `projects/{project}/topics/{topic}` or just the topic's id. */
  readonly name: string;
  readonly publisher: PubSubPublisher;
}

/** The parts of a received `Message` tracehop reads and settles. */
export interface PubSubMessage {
  readonly id: string;
  readonly ackId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
  readonly orderingKey?: string | undefined;
  readonly deliveryAttempt: number;
  /**
   * When Pub/Sub accepted the message, by its own clock (the client's `PreciseDate`, a
   * `Date`): the start of the queue time.
   */
  readonly publishTime?: Date | undefined;
  ack(): void;
  nack(): void;
  modAck(deadline: number): void;
  ackWithResponse?(): Promise<string>;
  nackWithResponse?(): Promise<string>;
  modAckWithResponse?(deadline: number): Promise<string>;
}

/** A subscription as the handler decorator accepts it: the object, or its name. */
export type PubSubSubscriptionRef =
  | string
  | {
      /** `projects/{project}/subscriptions/{subscription}` or just the id. */
      readonly name: string;
      /** The topic, when the client knows it (subscriptions made with `topic.subscription(…)`). */
      readonly topic?: string | { readonly name: string } | undefined;
      /** The subscription's metadata, when loaded (`createSubscription`, `getMetadata`). */
      readonly metadata?: { readonly topic?: string | null } | null | undefined;
      /** The `Subscription`'s events: on `close`, spans waiting for a settle are ended. */
      on?(event: 'close', listener: () => void): unknown;
    };

/** Options of {@link traceTopic} and {@link tracePubSub}. */
export type TraceTopicOptions = TracingOptions;

/** Options of {@link tracePubSubHandler}. */
export interface PubSubHandlerOptions
  extends ConsumerOptions<PubSubMessage>, HandlerErrorOptions<PubSubMessage> {
  /**
   * The subscription the handler listens on: the `Subscription` object or its name.
   * Its id names the `process` span (`subscribe {subscription}`) and is recorded as
   * `messaging.destination.subscription.name`. Received messages do not carry it, so it is
   * required. Given the `Subscription` object, tracehop also listens for its `close`: the
   * client nacks every message still unsettled then, and the spans waiting for a settle end
   * at once (status ERROR, `error.type = SubscriptionClosedError`) instead of at the timeout
   * — so a worker that closes the subscription and then flushes its tracer provider exports
   * them. Spans of handlers still running end when their handler finishes.
   */
  readonly subscription: PubSubSubscriptionRef;
  /**
   * The topic the subscription is attached to, recorded as `messaging.destination.name`.
   * @defaultValue the subscription object's `topic`, or the topic in its loaded `metadata`;
   * otherwise not recorded
   */
  readonly topic?: string;
  /**
   * Settle the message for the handler: `ack()` when it returns or its promise resolves,
   * `nack()` when it throws or rejects — unless the handler already settled it. The error
   * is recorded on the `process` span, then handed to `onError`: the nack is what it
   * meant, so the decorated handler returns (or resolves to) `undefined` instead of
   * throwing — the same as `autoSettle` on RabbitMQ. Off by default because the client's
   * own contract is that the handler settles; turn it on for handlers that only ever
   * process and return. Without it an async handler's rejection still never becomes an
   * unhandled rejection (it goes to `onError`), and a sync throw is rethrown unchanged.
   * @defaultValue false
   */
  readonly autoSettle?: boolean;
}
