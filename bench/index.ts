/**
 * `npm run bench`: the core figures, then one section per broker adapter, each on a
 * real broker the section starts itself, variants interleaved round by round.
 *
 * BENCH_SCALE multiplies the message counts; BENCH_ROUNDS sets the rounds (5).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { coreTable, runCoreBench } from './core.js';
import { brokerTable, summarise } from './stats.js';
import type { BenchRow } from './types.js';

interface Section {
  title: string;
  file: string;
  run: string;
  messages: number;
}

const sections: Section[] = [
  {
    title: 'RabbitMQ (amqplib)',
    file: 'amqp',
    run: 'runAmqpBench',
    messages: 20_000,
  },
  {
    title: 'SQS (@aws-sdk/client-sqs on fauxqs)',
    file: 'sqs',
    run: 'runSqsBench',
    messages: 2_000,
  },
  {
    title: 'Pub/Sub (emulator)',
    file: 'pubsub',
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
// Each section starts its own broker and stops it afterwards, so no broker shares
// the two cores with another section's run.
for (const section of present) {
  const module = (await import(`./${section.file}.js`)) as Record<
    string,
    (opts: { messages: number; rounds: number }) => Promise<BenchRow[]>
  >;
  const run = module[section.run];
  if (run === undefined) throw new Error(`bench/${section.file}.ts does not export ${section.run}`);
  const messages = Math.round(section.messages * scale);
  const rows = summarise(await run({ messages, rounds }));
  console.log(
    `\n${brokerTable(`${section.title}: ${messages} msgs, median of ${rounds} rounds`, rows)}`,
  );
}
