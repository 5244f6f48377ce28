/** One variant's figures in a broker benchmark round (medians when summarised). */
export interface BenchRow {
  /** `bare`, `bare+headers`, `tracehop`, `official`, `sdk-floor`, `tracehop-client`. */
  variant: string;
  /** The SDK's sampler (`always on`, `1%`); `none` for a variant without an SDK. */
  sampler: string;
  /** Messages per second through publish + consume + settle. */
  msgsPerSec: number;
  /** Client process CPU (user + system) per message, in microseconds. */
  cpuUsPerMsg: number;
  /** Heap used after the run and a forced GC, in MiB. */
  heapMB: number;
  /** Spans the exporter received per message (0 without an SDK). */
  spansPerMsg: number;
}

/** The heap of one worker after a forced GC at two points of the same run. */
export interface HeapRow {
  variant: string;
  /** As in {@link BenchRow.sampler}. */
  sampler: string;
  /** Messages handled at the first reading. */
  firstMessages: number;
  /** Heap used after a forced GC at the first reading, in MiB. */
  firstHeapMB: number;
  /** Messages handled at the second reading (in all). */
  lastMessages: number;
  /** Heap used after a forced GC at the second reading, in MiB. */
  lastHeapMB: number;
}
