/**
 * The cases every broker section runs, on a broker it started, each variant in a fresh
 * worker process per round (see worker-rounds.ts):
 *
 * - throughput: every variant, the traced ones with AlwaysOn and with ParentBased(1%), the
 *   runs interleaved and their order rotating from round to round;
 * - realistic: a handler that burns CPU on each message (200 µs in `npm run bench`), 1% sampled;
 * - heap (RabbitMQ): the heap of one process after 10 000 and after 100 000 messages.
 */
import { brokerTable, heapTable, ordered, realisticTable, summarise } from './stats.js';
import { samplerLabel, type SamplerSetting } from './sdk.js';
import type { BenchRow, HeapRow } from './types.js';
import { runWorkerRounds, type WorkerRun } from './worker-rounds.js';

/** One broker's benchmark: its worker, its variants, its broker. */
export interface BrokerSection {
  /** `amqp`, `sqs`, `pubsub`: the name `BENCH_ONLY` knows it by. */
  readonly name: string;
  readonly title: string;
  /** Absolute path of the worker script. */
  readonly worker: string;
  /** The variants, untraced ones first. */
  readonly variants: readonly string[];
  /** Default message count of the throughput case (before `BENCH_SCALE`). */
  readonly messages: number;
  /** Default message count of the realistic case (before `BENCH_SCALE`). */
  readonly realisticMessages: number;
  /** Extra environment for the workers. */
  readonly env?: NodeJS.ProcessEnv;
  /** Starts the broker (or finds one): its address for the workers, and how to stop it. */
  start(): Promise<{ address: string; stop(): Promise<void> }>;
}

/** Variants without an SDK: run once per round, whatever the sampler. */
export const UNTRACED: readonly string[] = ['bare', 'bare+headers'];

/** The samplers of the throughput case: AlwaysOn and ParentBased(TraceIdRatioBased(0.01)). */
export const SAMPLERS: readonly SamplerSetting[] = ['always', '0.01'];

/** What a worker must not inherit from the parent's environment unless a case sets it. */
export const WORKER_DEFAULTS: NodeJS.ProcessEnv = {
  BENCH_HEAP: '0',
  BENCH_DUMP_SPANS: '0',
  BENCH_HANDLER_US: '0',
};

/** The variants of the realistic case. */
export const REALISTIC_VARIANTS: readonly string[] = [
  'bare',
  'bare+headers',
  'tracehop',
  'official',
  'sdk-floor',
];

/**
 * The runs of one round: each untraced variant once, each traced one once per sampler,
 * a variant's samplers side by side so that rotating the order moves both alike.
 */
export function runsOf(
  variants: readonly string[],
  samplers: readonly SamplerSetting[],
): WorkerRun[] {
  const runs: WorkerRun[] = [];
  for (const variant of variants) {
    if (UNTRACED.includes(variant)) runs.push({ variant });
    else for (const sampler of samplers) runs.push({ variant, env: { BENCH_SAMPLER: sampler } });
  }
  return runs;
}

/** The throughput case: one table, a row per variant and sampler. */
export async function throughput(
  section: BrokerSection,
  address: string,
  opts: { messages: number; rounds: number },
): Promise<string> {
  const rows = await runWorkerRounds<BenchRow>({
    worker: section.worker,
    runs: runsOf(section.variants, SAMPLERS),
    address,
    messages: opts.messages,
    rounds: opts.rounds,
    env: { ...WORKER_DEFAULTS, ...section.env },
  });
  const shown = ordered(summarise(rows), section.variants, SAMPLERS.map(samplerLabel));
  return brokerTable(
    `${section.title}: ${opts.messages} msgs, median of ${opts.rounds} rounds`,
    shown,
  );
}

/** The realistic case: the handler burns `handlerUs` of CPU per message, 1% sampled. */
export async function realistic(
  section: BrokerSection,
  address: string,
  opts: { messages: number; rounds: number; handlerUs: number },
): Promise<string> {
  const variants = REALISTIC_VARIANTS.filter((variant) => section.variants.includes(variant));
  const rows = await runWorkerRounds<BenchRow>({
    worker: section.worker,
    runs: runsOf(variants, ['0.01']),
    address,
    messages: opts.messages,
    rounds: opts.rounds,
    env: { ...WORKER_DEFAULTS, ...section.env, BENCH_HANDLER_US: String(opts.handlerUs) },
  });
  return realisticTable(
    `${section.title}: ${opts.messages} msgs, handler ${opts.handlerUs} µs CPU each, median of ${opts.rounds} rounds`,
    ordered(summarise(rows), variants, []),
  );
}

/**
 * The heap case (a worker with a `BENCH_HEAP` mode): one run each of `bare` (what the client
 * itself keeps), of `tracehop` with AlwaysOn and with 1%, and of `sdk-floor` with AlwaysOn
 * (what the SDK and the spans themselves keep), heap read at a tenth of `messages` and at the
 * end, both counted after the worker's warm-up.
 */
export async function heap(
  section: BrokerSection,
  address: string,
  opts: { messages: number },
): Promise<string> {
  const rows = await runWorkerRounds<HeapRow>({
    worker: section.worker,
    runs: [...runsOf(['bare', 'tracehop'], SAMPLERS), ...runsOf(['sdk-floor'], ['always'])],
    address,
    messages: opts.messages,
    rounds: 1,
    env: { ...WORKER_DEFAULTS, ...section.env, BENCH_HEAP: '1' },
  });
  return heapTable(`${section.title}: heap after a forced GC, one process`, rows);
}

/** Runs `fn` with the section's broker started, and stops the broker afterwards. */
export async function withBroker<T>(
  section: BrokerSection,
  fn: (address: string) => Promise<T>,
): Promise<T> {
  const broker = await section.start();
  try {
    return await fn(broker.address);
  } finally {
    await broker.stop();
  }
}
