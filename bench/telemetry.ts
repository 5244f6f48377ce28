/**
 * What each traced variant of the broker benchmarks records per message, so that "equal
 * telemetry" can be checked rather than assumed:
 *
 *   tsx bench/telemetry.ts [amqp|sqs|pubsub …] [--messages N]
 *
 * Runs every traced variant once with AlwaysOn and the spans kept, and prints the shapes of
 * tracehop's spans (name, kind, parent, links, attributes, events, count per message), whether
 * `sdk-floor` records exactly the same, and the shapes of the other variants. Exits with 1
 * when `sdk-floor` differs from `tracehop`. Starts each broker it needs, or uses the one
 * RABBITMQ_URL, SQS_ENDPOINT or PUBSUB_EMULATOR_HOST names.
 */
import { amqpSection } from './amqp.js';
import { UNTRACED, withBroker, WORKER_DEFAULTS, type BrokerSection } from './broker-bench.js';
import { pubsubSection } from './pubsub.js';
import { compareShapes, formatShapes, type SpanShape } from './span-dump.js';
import { sqsSection } from './sqs.js';
import { spawnWorker } from './worker-rounds.js';

const SECTIONS: readonly BrokerSection[] = [amqpSection, sqsSection, pubsubSection];

/** The span shapes one worker run printed (`BENCH_DUMP_SPANS=1`). */
async function shapesOf(
  section: BrokerSection,
  address: string,
  variant: string,
  messages: number,
): Promise<SpanShape[]> {
  const stdout = await spawnWorker(section.worker, [variant, String(messages), address], {
    ...WORKER_DEFAULTS,
    ...section.env,
    BENCH_SAMPLER: 'always',
    BENCH_DUMP_SPANS: '1',
  });
  const line = stdout.split('\n').find((text) => text.startsWith('{"shapes":'));
  if (line === undefined) throw new Error(`${variant} printed no span shapes:\n${stdout}`);
  return (JSON.parse(line) as { shapes: SpanShape[] }).shapes;
}

/** Prints one broker's telemetry; `false` when `sdk-floor` differs from `tracehop`. */
async function describe(section: BrokerSection, messages: number): Promise<boolean> {
  return withBroker(section, async (address) => {
    const traced = section.variants.filter((variant) => !UNTRACED.includes(variant));
    const shapes = new Map<string, SpanShape[]>();
    for (const variant of traced) {
      shapes.set(variant, await shapesOf(section, address, variant, messages));
    }
    const ours = shapes.get('tracehop') ?? [];
    console.log(`\n## ${section.title}: spans per message, ${messages} messages, always on\n`);
    console.log(`tracehop:\n${formatShapes(ours)}`);
    let same = true;
    for (const [variant, theirs] of shapes) {
      if (variant === 'tracehop') continue;
      if (variant === 'sdk-floor') {
        const differences = compareShapes(ours, theirs, 'tracehop', 'sdk-floor');
        same = differences.length === 0;
        console.log(
          same
            ? '\nsdk-floor: the same spans, attributes, links and events as tracehop'
            : `\nsdk-floor differs from tracehop:\n${differences.map((d) => `  - ${d}`).join('\n')}`,
        );
        continue;
      }
      console.log(`\n${variant}:\n${formatShapes(theirs)}`);
    }
    return same;
  });
}

const args = process.argv.slice(2);
const at = args.indexOf('--messages');
const messages = at === -1 ? 200 : Number(args[at + 1]);
const names = args.filter((arg, index) => !arg.startsWith('--') && (at === -1 || index !== at + 1));
const chosen = names.length === 0 ? SECTIONS : SECTIONS.filter((s) => names.includes(s.name));
let allSame = true;
for (const section of chosen) allSame = (await describe(section, messages)) && allSame;
if (!allSame) process.exitCode = 1;
