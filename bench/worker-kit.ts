/**
 * What every broker worker shares: its arguments, the SDK of the traced variants (sampler from
 * `BENCH_SAMPLER`), the handler's simulated work (`BENCH_HANDLER_US`), the measurement of one
 * run and the line it prints.
 *
 * Environment of a worker:
 * - `BENCH_SAMPLER`: `always` (default) or a ratio such as `0.01` (`ParentBased(TraceIdRatioBased)`);
 * - `BENCH_HANDLER_US`: microseconds of CPU the handler burns per message (default 0);
 * - `BENCH_DUMP_SPANS=1`: also print the shapes of the exported spans (see span-dump.ts).
 */
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  benchProvider,
  installSdk,
  samplerLabel,
  samplerOf,
  samplerSetting,
  type DiscardingExporter,
} from './sdk.js';
import { describeSpans } from './span-dump.js';
import type { BenchRow } from './types.js';

/** A worker's command line: `<variant> <messages> <address>`. */
export interface WorkerArgs {
  readonly variant: string;
  readonly messages: number;
  readonly address: string;
}

/**
 * Reads `<variant> <messages> <address>` from the command line.
 *
 * @throws Error when the variant is not one of `variants` or an argument is missing
 */
export function workerArgs(script: string, variants: readonly string[]): WorkerArgs {
  const [variant, messages, address] = process.argv.slice(2);
  if (
    variant === undefined ||
    !variants.includes(variant) ||
    address === undefined ||
    !(Number(messages) > 0)
  ) {
    throw new Error(`usage: ${script} ${variants.join('|')} <messages> <address>`);
  }
  return { variant, messages: Number(messages), address };
}

/** The SDK of a traced variant. */
export interface BenchSdk {
  readonly provider: BasicTracerProvider;
  readonly exporter: DiscardingExporter;
  /** The sampler, as shown in the tables. */
  readonly sampler: string;
}

/** The SDK with the sampler of `BENCH_SAMPLER`, registered globally. */
export function startSdk(): BenchSdk {
  const setting = samplerSetting();
  const { provider, exporter } = benchProvider(
    samplerOf(setting),
    process.env['BENCH_DUMP_SPANS'] === '1',
  );
  installSdk(provider);
  return { provider, exporter, sampler: samplerLabel(setting) };
}

const HANDLER_MS = Number(process.env['BENCH_HANDLER_US'] ?? 0) / 1000;

/**
 * The handler's own work: burns `BENCH_HANDLER_US` microseconds of CPU (nothing by
 * default), the same loop in every variant.
 */
export function handlerWork(): void {
  if (HANDLER_MS <= 0) return;
  const until = performance.now() + HANDLER_MS;
  while (performance.now() < until) {
    // Busy: a handler that parses, validates and writes takes CPU time, not wall time.
  }
}

/** `global.gc`, which the workers run with (`--expose-gc`). */
export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
}

/**
 * One measured run of a worker: {@link start} after the warm-up, {@link stop} when the last
 * message is settled, then {@link row}.
 */
export class Measurement {
  private exportedBefore = 0;
  private cpuBefore: NodeJS.CpuUsage = process.cpuUsage();
  private began = 0;
  private seconds = 0;
  private cpuUs = 0;

  constructor(
    private readonly variant: string,
    private readonly messages: number,
    private readonly sdk: BenchSdk | undefined,
  ) {}

  /** Flushes the warm-up's spans (they are not counted), collects garbage, starts the clocks. */
  async start(): Promise<void> {
    if (this.sdk !== undefined) {
      await this.sdk.provider.forceFlush();
      this.exportedBefore = this.sdk.exporter.exported;
      if (this.sdk.exporter.kept !== undefined) this.sdk.exporter.kept.length = 0;
    }
    forceGc();
    this.cpuBefore = process.cpuUsage();
    this.began = performance.now();
  }

  /** Stops the clocks. */
  stop(): void {
    this.seconds = (performance.now() - this.began) / 1e3;
    const cpu = process.cpuUsage(this.cpuBefore);
    this.cpuUs = cpu.user + cpu.system;
  }

  /** The figures of the run: flushes the spans, then measures the heap after a forced GC. */
  async row(): Promise<BenchRow> {
    let spans = 0;
    if (this.sdk !== undefined) {
      await this.sdk.provider.forceFlush();
      spans = this.sdk.exporter.exported - this.exportedBefore;
    }
    forceGc();
    return {
      variant: this.variant,
      sampler: this.sdk?.sampler ?? 'none',
      msgsPerSec: this.messages / this.seconds,
      cpuUsPerMsg: this.cpuUs / this.messages,
      heapMB: process.memoryUsage().heapUsed / 2 ** 20,
      spansPerMsg: spans / this.messages,
    };
  }

  /**
   * With `BENCH_DUMP_SPANS=1`, prints the shapes of the spans of the measured run as one JSON
   * line (`{"shapes": …}`), `rename` hiding this run's own queue or topic names.
   */
  dumpSpans(rename: Readonly<Record<string, string>>): void {
    const kept = this.sdk?.exporter.kept;
    if (kept === undefined) return;
    process.stdout.write(
      `${JSON.stringify({ shapes: describeSpans(kept, this.messages, rename) })}\n`,
    );
  }
}

/** Prints the row: the worker's last line of output, which the parent reads. */
export function printRow(row: object): void {
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
