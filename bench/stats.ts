import type { BenchRow } from './types.js';

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Medians per variant over rounds, in first-seen variant order. */
export function summarise(rows: readonly BenchRow[]): BenchRow[] {
  const variants = [...new Set(rows.map((r) => r.variant))];
  return variants.map((variant) => {
    const mine = rows.filter((r) => r.variant === variant);
    return {
      variant,
      msgsPerSec: median(mine.map((r) => r.msgsPerSec)),
      cpuUsPerMsg: median(mine.map((r) => r.cpuUsPerMsg)),
      heapMB: median(mine.map((r) => r.heapMB)),
    };
  });
}

/** A markdown table of broker figures with ratios to the `bare` variant. */
export function brokerTable(title: string, rows: readonly BenchRow[]): string {
  const bare = rows.find((r) => r.variant === 'bare');
  const lines = [
    `### ${title}`,
    '',
    '| variant | msgs/s | × bare | CPU µs/msg | Δ CPU vs bare | heap MiB |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const ratio = bare ? (row.msgsPerSec / bare.msgsPerSec).toFixed(2) : '–';
    const delta = bare
      ? `${row.cpuUsPerMsg - bare.cpuUsPerMsg >= 0 ? '+' : ''}${(row.cpuUsPerMsg - bare.cpuUsPerMsg).toFixed(1)}`
      : '–';
    lines.push(
      `| ${row.variant} | ${Math.round(row.msgsPerSec)} | ${ratio} | ${row.cpuUsPerMsg.toFixed(1)} | ${delta} | ${row.heapMB.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}
