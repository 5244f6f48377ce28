/**
 * `npm run bench`: the core figures, then one section per broker adapter, each on a
 * real broker started here, variants interleaved round by round.
 *
 * BENCH_MESSAGES and BENCH_ROUNDS scale the broker sections.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBrokers, type BrokerName } from '../test/brokers/index.js';
import { coreTable, runCoreBench } from './core.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';

interface Section {
  title: string;
  file: string;
  broker: BrokerName;
  run: string;
  messages: number;
}

const sections: Section[] = [
  {
    title: 'RabbitMQ (amqplib)',
    file: 'amqp',
    broker: 'rabbitmq',
    run: 'runAmqpBench',
    messages: 20_000,
  },
  {
    title: 'SQS (@aws-sdk/client-sqs on fauxqs)',
    file: 'sqs',
    broker: 'sqs',
    run: 'runSqsBench',
    messages: 2_000,
  },
  {
    title: 'Pub/Sub (emulator)',
    file: 'pubsub',
    broker: 'pubsub',
    run: 'runPubsubBench',
    messages: 5_000,
  },
];

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const scale = Number(process.env['BENCH_SCALE'] ?? 1);

console.log(`# tracehop benchmark — Node ${process.version}, ${new Date().toISOString()}\n`);
console.log(coreTable(runCoreBench()));

const present = sections.filter((s) =>
  existsSync(fileURLToPath(new URL(`./${s.file}.ts`, import.meta.url))),
);
if (present.length > 0) {
  const brokers = await startBrokers(present.map((s) => s.broker));
  try {
    for (const section of present) {
      const module = (await import(`./${section.file}.js`)) as Record<
        string,
        (opts: { messages: number; rounds: number }) => Promise<BenchRow[]>
      >;
      const run = module[section.run];
      if (run === undefined)
        throw new Error(`bench/${section.file}.ts does not export ${section.run}`);
      const rows = summarise(await run({ messages: Math.round(section.messages * scale), rounds }));
      console.log(
        `\n${brokerTable(`${section.title}: ${Math.round(section.messages * scale)} msgs, median of ${rounds} rounds`, rows)}`,
      );
    }
  } finally {
    await brokers.stopAll();
  }
}
