import { randomUUID } from 'node:crypto';
import {
  PubSub,
  type ClientConfig,
  type CreateSubscriptionOptions,
  type Message,
  type Subscription,
  type Topic,
} from '@google-cloud/pubsub';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect, inject } from 'vitest';

export const PROJECT_ID = 'tracehop-test';

/** A client on the emulator the integration setup started. */
export function emulatorClient(config: ClientConfig = {}): PubSub {
  // global-setup sets this; without it the auth library probes for a cloud metadata server.
  expect(process.env['METADATA_SERVER_DETECTION']).toBe('none');
  return new PubSub({
    projectId: PROJECT_ID,
    apiEndpoint: inject('pubsubEmulatorHost'),
    ...config,
  });
}

/** A fresh topic and subscription with unique names, and how to remove them. */
export interface Fixture {
  readonly pubsub: PubSub;
  readonly topic: Topic;
  readonly subscription: Subscription;
  readonly topicId: string;
  readonly subscriptionId: string;
  close(): Promise<void>;
}

export async function createFixture(
  options: {
    messageOrdering?: boolean;
    subscription?: CreateSubscriptionOptions;
    client?: ClientConfig;
  } = {},
): Promise<Fixture> {
  const pubsub = emulatorClient(options.client);
  const topicId = `tracehop-${randomUUID()}`;
  const subscriptionId = `${topicId}-sub`;
  await pubsub.createTopic(topicId);
  const topic = pubsub.topic(topicId, { messageOrdering: options.messageOrdering ?? false });
  const [subscription] = await topic.createSubscription(subscriptionId, {
    enableMessageOrdering: options.messageOrdering ?? false,
    ...options.subscription,
  });
  return {
    pubsub,
    topic,
    subscription,
    topicId,
    subscriptionId,
    async close() {
      await subscription.close();
      await subscription.delete();
      await topic.delete();
      await pubsub.close();
    },
  };
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Listens for `count` messages; resolves with them, rejects on a subscription error. */
export function collect(
  subscription: Subscription,
  count: number,
  listener: (message: Message) => unknown,
): Promise<Message[]> {
  const done = deferred<Message[]>();
  const seen: Message[] = [];
  subscription.on('error', (error: unknown) => done.reject(error));
  subscription.on('message', (message: Message) => {
    seen.push(message);
    const result = listener(message);
    // A handler's rejection is the test's business: the decorator passes it on unchanged.
    if (result instanceof Promise) result.catch(() => undefined);
    if (seen.length === count) done.resolve(seen);
  });
  return done.promise;
}

/**
 * Subscribes `handler` like `subscription.on('message', handler)`, catching what an async
 * handler rejects with (the decorator passes errors on unchanged; tests read them from spans).
 */
export function listen(subscription: Subscription, handler: (message: Message) => unknown): void {
  subscription.on('message', (message: Message) => {
    const result = handler(message);
    if (result instanceof Promise) result.catch(() => undefined);
  });
}

/** An event's own fields as a plain object, to compare events field by field. */
export function fieldsOf(event: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event));
}

export function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found.map((span) => span.name)).toEqual([name]);
  return found[0] as ReadableSpan;
}

export const spanId = (span: ReadableSpan): string => span.spanContext().spanId;
export const traceId = (span: ReadableSpan): string => span.spanContext().traceId;
export const parentId = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
