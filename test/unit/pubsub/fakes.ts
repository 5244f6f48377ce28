import type {
  PubSubMessage,
  PubSubOutgoingMessage,
  PubSubPublishCallback,
  PubSubPublisher,
  PubSubTopic,
} from '../../../adapters/pubsub/index.js';

/** A received message as the client delivers it, recording the settle calls it gets. */
export class FakeMessage implements PubSubMessage {
  readonly calls: string[] = [];
  deliveryAttempt = 0;
  orderingKey: string | undefined = undefined;
  ackResponse: Promise<string> = Promise.resolve('SUCCESS');

  constructor(
    readonly id: string,
    readonly attributes: Record<string, string> = {},
    readonly ackId = `ack-${id}`,
    readonly data: Uint8Array = Buffer.from('payload'),
  ) {}

  get length(): number {
    return this.data.length;
  }
  ack(): void {
    this.calls.push('ack');
  }
  nack(): void {
    this.calls.push('nack');
  }
  modAck(deadline: number): void {
    this.calls.push(`modAck ${deadline}`);
  }
  ackWithResponse(): Promise<string> {
    this.calls.push('ackWithResponse');
    return this.ackResponse;
  }
  nackWithResponse(): Promise<string> {
    this.calls.push('nackWithResponse');
    return this.ackResponse;
  }
  modAckWithResponse(deadline: number): Promise<string> {
    this.calls.push(`modAckWithResponse ${deadline}`);
    return this.ackResponse;
  }
}

/** The client's AckError shape: an Error with an `errorCode`. */
export class FakeAckError extends Error {
  constructor(readonly errorCode: string) {
    super(`${errorCode} : failed`);
  }
}

type Outcome = { id: string } | { error: Error } | { throws: Error };

/** A publisher that answers each publish with the next outcome (default: ids 1, 2, 3…). */
export class FakePublisher implements PubSubPublisher {
  readonly published: PubSubOutgoingMessage[] = [];
  readonly outcomes: Outcome[] = [];
  private next = 1;

  publishMessage(message: PubSubOutgoingMessage): Promise<string>;
  publishMessage(message: PubSubOutgoingMessage, callback: PubSubPublishCallback): void;
  publishMessage(
    message: PubSubOutgoingMessage,
    callback?: PubSubPublishCallback,
  ): Promise<string> | void {
    this.published.push(message);
    const outcome = this.outcomes.shift() ?? { id: String(this.next++) };
    if ('throws' in outcome) throw outcome.throws;
    if (callback) {
      queueMicrotask(() =>
        'id' in outcome ? callback(null, outcome.id) : callback(outcome.error, undefined),
      );
      return;
    }
    return 'id' in outcome ? Promise.resolve(outcome.id) : Promise.reject(outcome.error);
  }
}

/** A topic whose publish methods go through `publisher`, as the client's do. */
export class FakeTopic implements PubSubTopic {
  readonly publisher = new FakePublisher();
  pubsub: { options: { enableOpenTelemetryTracing?: boolean } } = { options: {} };

  constructor(readonly name = 'projects/tracehop-test/topics/orders') {}

  publishMessage(message: PubSubOutgoingMessage): Promise<string> {
    return this.publisher.publishMessage({ ...message });
  }
  publish(data: Buffer, attributes?: Record<string, string>): Promise<string> {
    return this.publishMessage({ data, attributes: attributes ?? {} });
  }
}
