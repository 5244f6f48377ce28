/**
 * `npm run bench`: the core figures, then one section per broker, each on a real broker it
 * starts itself, every variant in a fresh process per round, the runs interleaved and their
 * order rotating from round to round; then the realistic case (a handler with 200 µs of CPU
 * work, 1% sampled) and the heap of one process from 10 000 to 100 000 messages.
 *
 * - `BENCH_ROUNDS`: rounds of the throughput case (5); the realistic case runs 3 in 5.
 * - `BENCH_SCALE`: multiplies every message count (1).
 * - `BENCH_ONLY`: a comma list of `core`, `amqp`, `sqs`, `pubsub`, `realistic`, `heap` (all).
 * - `BENCH_HANDLER_US`: the realistic handler's CPU work per message, in µs (200).
 */
import { cpus } from 'node:os';
import { amqpSection } from './amqp.js';
import { heap, realistic, throughput, withBroker, type BrokerSection } from './broker-bench.js';
import { coreTable, runCoreBench } from './core.js';
import { pubsubSection } from './pubsub.js';
import { sqsSection } from './sqs.js';

const CASES = ['core', 'amqp', 'sqs', 'pubsub', 'realistic', 'heap'] as const;
const SECTIONS: readonly BrokerSection[] = [amqpSection, sqsSection, pubsubSection];
/** Iterations per round of each core case. */
const CORE_ITERATIONS = 50_000;
/** Messages of the heap case: read at a tenth of them and at the end. */
const HEAP_MESSAGES = 100_000;

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
const scale = Number(process.env['BENCH_SCALE'] ?? 1);
const handlerUs = Number(process.env['BENCH_HANDLER_US'] ?? 200);
const realisticRounds = Math.max(1, Math.round(rounds * 0.6));
const only = new Set(
  (process.env['BENCH_ONLY'] ?? CASES.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);
for (const name of only) {
  if (!(CASES as readonly string[]).includes(name)) {
    throw new Error(`BENCH_ONLY: unknown case '${name}' (known: ${CASES.join(', ')})`);
  }
}
const scaled = (messages: number) => Math.max(10, Math.round(messages * scale));

const cpu = cpus();
console.log(`# tracehop benchmark

- Node ${process.version} on ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}
- ${new Date().toISOString()}
- throughput: median of ${rounds} rounds; realistic: median of ${realisticRounds}; core: median of 5; message counts × ${scale}
- reproduce: \`BENCH_ROUNDS=${rounds} BENCH_SCALE=${scale}${process.env['BENCH_ONLY'] === undefined ? '' : ` BENCH_ONLY=${[...only].join(',')}`} npm run bench\`

Every figure below is a ratio or a difference between variants measured in the same run,
each variant in a fresh process per round. Variants: \`bare\` (the client alone),
\`bare+headers\` (the client carrying a \`traceparent\`: the floor of any propagation, "floor"
in the tables), \`tracehop\`, \`official\` (the official OpenTelemetry instrumentation),
\`sdk-floor\` (tracehop's spans, attributes, links and events written inline with the
OpenTelemetry API: the limit of any instrumentation recording the same; \`tsx bench/telemetry.ts\`
checks that it records the same), and on SQS \`tracehop-client\` (a span per SQS call only).
The traced variants run the real SDK (BatchSpanProcessor, an exporter that discards) with
AlwaysOn or ParentBased(TraceIdRatioBased(0.01)); the producer spans are roots, so 1% of the
messages are traced end to end. spans/msg: spans the exporter received per message.
`);

if (only.has('core')) {
  console.log(coreTable(runCoreBench(Math.max(1_000, Math.round(CORE_ITERATIONS * scale)), 5)));
}

const realisticTables: string[] = [];
const heapTables: string[] = [];
for (const section of SECTIONS) {
  const main = only.has(section.name);
  const real = only.has('realistic');
  const heapCase = only.has('heap') && section === amqpSection;
  if (!main && !real && !heapCase) continue;
  // Each section starts its own broker and stops it afterwards, so no broker shares the
  // cores with another section's run.
  await withBroker(section, async (address) => {
    if (main) {
      const table = await throughput(section, address, {
        messages: scaled(section.messages),
        rounds,
      });
      console.log(`\n${table}`);
    }
    if (real) {
      realisticTables.push(
        await realistic(section, address, {
          messages: scaled(section.realisticMessages),
          rounds: realisticRounds,
          handlerUs,
        }),
      );
    }
    if (heapCase) {
      heapTables.push(await heap(section, address, { messages: scaled(HEAP_MESSAGES) }));
    }
  });
}

if (realisticTables.length > 0) {
  console.log(`
## Realistic worker: a handler with ${handlerUs} µs of CPU work per message, 1% sampled

CPU over bare / floor: how much more CPU per message the variant takes than \`bare\` /
\`bare+headers\`, handler included.
`);
  console.log(realisticTables.join('\n\n'));
}
if (heapTables.length > 0) {
  console.log(`
## Heap: one process, read after the spans are flushed and a forced GC
`);
  console.log(heapTables.join('\n\n'));
}
