/**
 * Starts the real brokers the integration tests, the benchmark and the demo talk to, in parallel,
 * and prints one line per broker with its start-up time. Independent of vitest.
 *
 *   const brokers = await startBrokers(['sqs']);
 *   try { use(brokers.sqs.endpoint) } finally { await brokers.stopAll() }
 */
import { startPubSub } from './pubsub.js';
import { startRabbitMq } from './rabbitmq.js';
import { startSqs } from './sqs.js';
import {
  once,
  type BrokerHandle,
  type PubSubBroker,
  type RabbitMqBroker,
  type SqsBroker,
} from './types.js';

export type {
  BrokerHandle,
  BrokerOrigin,
  PubSubBroker,
  RabbitMqBroker,
  SqsBroker,
} from './types.js';

export interface BrokerTypes {
  rabbitmq: RabbitMqBroker;
  sqs: SqsBroker;
  pubsub: PubSubBroker;
}
export type BrokerName = keyof BrokerTypes;
export const allBrokers: readonly BrokerName[] = ['rabbitmq', 'sqs', 'pubsub'];

export type StartedBrokers<W extends BrokerName> = { [K in W]: BrokerTypes[K] } & {
  /** Stops every broker this call started (not those from env overrides or already running). */
  stopAll(): Promise<void>;
};

const starters: { [K in BrokerName]: () => Promise<BrokerTypes[K]> } = {
  rabbitmq: startRabbitMq,
  sqs: startSqs,
  pubsub: startPubSub,
};

export async function startBrokers<W extends BrokerName = BrokerName>(
  // the cast only widens the default: with no argument W is BrokerName, i.e. all of them
  which: readonly W[] = allBrokers as readonly W[],
): Promise<StartedBrokers<W>> {
  const names = [...new Set(which)];
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const broker: BrokerHandle = await starters[name]();
      process.stderr.write(
        `[brokers] ${name} ready at ${broker.address} in ${seconds(broker.startupMs)} (${broker.via})\n`,
      );
      return [name, broker] as const;
    }),
  );

  const started = results.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const stopAll = once(async () => {
    const stopped = await Promise.allSettled(started.map(([, broker]) => broker.stop()));
    const failures = stopped.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    if (failures.length > 0)
      throw new AggregateError(
        failures,
        `[brokers] ${failures.length} broker(s) did not stop cleanly: ${failures.map(message).join('; ')}`,
      );
  });

  const failed = results.flatMap((result, index) =>
    result.status === 'rejected' ? [[names[index], result.reason as unknown] as const] : [],
  );
  if (failed.length > 0) {
    await stopAll().catch(() => {}); // the start-up failure is the error to report
    throw new Error(
      `[brokers] could not start ${failed.map(([name]) => name).join(', ')}:\n${failed.map(([name, reason]) => `- ${name}: ${message(reason)}`).join('\n')}`,
      {
        cause:
          failed.length === 1
            ? failed[0]?.[1]
            : new AggregateError(failed.map(([, reason]) => reason)),
      },
    );
  }
  // Object.fromEntries loses the key/value pairing; the entries are exactly names -> their handles.
  return Object.assign(Object.fromEntries(started) as { [K in W]: BrokerTypes[K] }, { stopAll });
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
