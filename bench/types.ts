/** One variant's figures in a broker benchmark round (medians when summarised). */
export interface BenchRow {
  /** `bare`, `bare+headers`, `tracehop` or `official`. */
  variant: string;
  /** Messages per second through publish + consume + settle. */
  msgsPerSec: number;
  /** Client process CPU (user + system) per message, in microseconds. */
  cpuUsPerMsg: number;
  /** Heap used after the run and a forced GC, in MiB. */
  heapMB: number;
}
