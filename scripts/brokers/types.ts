/** Where a broker used by a test run comes from. */
export type BrokerOrigin =
  | 'env' // an override variable (RABBITMQ_URL, SQS_ENDPOINT, PUBSUB_EMULATOR_HOST) named it
  | 'existing' // one was already listening on its default port; we use it and leave it running
  | 'local' // we started a process on this machine
  | 'embedded' // we started it inside this Node process
  | 'docker'; // we started a container with testcontainers

export interface BrokerHandle {
  /** Milliseconds from the start call until the broker accepted connections. */
  readonly startupMs: number;
  readonly origin: BrokerOrigin;
  /** Human-readable address, e.g. for log lines. */
  readonly address: string;
  /** How it was obtained, for log lines, e.g. 'rabbitmq-server -detached' or 'SQS_ENDPOINT'. */
  readonly via: string;
  /** Stops what this handle started; a no-op for 'env' and 'existing'. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RabbitMqBroker extends BrokerHandle {
  /** AMQP URL, e.g. amqp://guest:guest@127.0.0.1:5672 */
  readonly url: string;
}

export interface SqsBroker extends BrokerHandle {
  /** SQS endpoint for SQSClient({ endpoint }), e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
}

export interface PubSubBroker extends BrokerHandle {
  /** host:port for PUBSUB_EMULATOR_HOST or new PubSub({ apiEndpoint }) */
  readonly host: string;
}

export const noop = async (): Promise<void> => {};

/** Wraps a stop function so that a second call returns the first call's promise. */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
