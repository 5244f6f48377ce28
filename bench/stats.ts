import type { BenchRow, HeapRow } from './types.js';

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Medians per variant and sampler over rounds, in first-seen order. */
export function summarise(rows: readonly BenchRow[]): BenchRow[] {
  const keyOf = (row: BenchRow) => `${row.variant}\u0000${row.sampler}`;
  const keys = [...new Set(rows.map(keyOf))];
  return keys.map((key) => {
    const mine = rows.filter((row) => keyOf(row) === key);
    const first = mine[0] as BenchRow;
    return {
      variant: first.variant,
      sampler: first.sampler,
      msgsPerSec: median(mine.map((r) => r.msgsPerSec)),
      cpuUsPerMsg: median(mine.map((r) => r.cpuUsPerMsg)),
      heapMB: median(mine.map((r) => r.heapMB)),
      spansPerMsg: median(mine.map((r) => r.spansPerMsg)),
    };
  });
}

/** The order rows are shown in: variants as listed (others after), then samplers as listed. */
export function ordered(
  rows: readonly BenchRow[],
  variants: readonly string[],
  samplers: readonly string[],
): BenchRow[] {
  const rank = (list: readonly string[], value: string) => {
    const index = list.indexOf(value);
    return index === -1 ? list.length : index;
  };
  return [...rows].sort(
    (a, b) =>
      rank(variants, a.variant) - rank(variants, b.variant) ||
      rank(samplers, a.sampler) - rank(samplers, b.sampler),
  );
}

function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

/**
 * A markdown table of broker figures: throughput as a ratio to `bare` and to `bare+headers`
 * (the floor of any propagation), CPU per message as a difference to each, and the spans
 * exported per message. One row per variant and sampler.
 */
export function brokerTable(title: string, rows: readonly BenchRow[]): string {
  const bare = rows.find((r) => r.variant === 'bare');
  const floor = rows.find((r) => r.variant === 'bare+headers');
  const ratio = (row: BenchRow, base: BenchRow | undefined) =>
    base ? (row.msgsPerSec / base.msgsPerSec).toFixed(2) : '–';
  const delta = (row: BenchRow, base: BenchRow | undefined) =>
    base ? signed(row.cpuUsPerMsg - base.cpuUsPerMsg, 1) : '–';
  const lines = [
    `### ${title}`,
    '',
    '| variant | sampler | msgs/s | × bare | × floor | CPU µs/msg | Δ CPU vs bare | Δ CPU vs floor | spans/msg | heap MiB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.variant} | ${row.sampler === 'none' ? '–' : row.sampler} | ${Math.round(row.msgsPerSec)} | ${ratio(row, bare)} | ${ratio(row, floor)} | ${row.cpuUsPerMsg.toFixed(1)} | ${delta(row, bare)} | ${delta(row, floor)} | ${row.sampler === 'none' ? '–' : row.spansPerMsg.toFixed(3)} | ${row.heapMB.toFixed(1)} |`,
    );
  }
  const gaps = vsSdkFloor(rows);
  if (gaps !== '') lines.push('', gaps);
  return lines.join('\n');
}

/** `tracehop` against `sdk-floor`, per sampler: the CPU tracehop adds over inline API calls. */
function vsSdkFloor(rows: readonly BenchRow[]): string {
  const parts: string[] = [];
  for (const row of rows) {
    if (row.variant !== 'tracehop') continue;
    const floor = rows.find((r) => r.variant === 'sdk-floor' && r.sampler === row.sampler);
    if (floor === undefined) continue;
    parts.push(
      `${row.sampler}: ${signed(row.cpuUsPerMsg - floor.cpuUsPerMsg, 1)} µs/msg, ×${(row.msgsPerSec / floor.msgsPerSec).toFixed(2)} msgs/s`,
    );
  }
  return parts.length === 0 ? '' : `tracehop vs sdk-floor — ${parts.join('; ')}`;
}

/**
 * A markdown table of the realistic case: CPU per message of each variant, and how much more
 * CPU than `bare` and than `bare+headers` it takes, in percent.
 */
export function realisticTable(title: string, rows: readonly BenchRow[]): string {
  const bare = rows.find((r) => r.variant === 'bare');
  const floor = rows.find((r) => r.variant === 'bare+headers');
  const percent = (row: BenchRow, base: BenchRow | undefined) =>
    base ? `${signed(((row.cpuUsPerMsg - base.cpuUsPerMsg) / base.cpuUsPerMsg) * 100, 1)}%` : '–';
  const lines = [
    `### ${title}`,
    '',
    '| variant | sampler | msgs/s | CPU µs/msg | CPU over bare | CPU over floor | spans/msg |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.variant} | ${row.sampler === 'none' ? '–' : row.sampler} | ${Math.round(row.msgsPerSec)} | ${row.cpuUsPerMsg.toFixed(1)} | ${percent(row, bare)} | ${percent(row, floor)} | ${row.sampler === 'none' ? '–' : row.spansPerMsg.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

/** A markdown table of heap readings at two points of one run, and their difference. */
export function heapTable(title: string, rows: readonly HeapRow[]): string {
  const lines = [`### ${title}`, ''];
  const first = rows[0];
  if (first === undefined) return lines.join('\n');
  lines.push(
    `| variant | sampler | heap after ${first.firstMessages} msgs, MiB | heap after ${first.lastMessages} msgs, MiB | Δ MiB |`,
    '|---|---|---:|---:|---:|',
  );
  for (const row of rows) {
    lines.push(
      `| ${row.variant} | ${row.sampler === 'none' ? '–' : row.sampler} | ${row.firstHeapMB.toFixed(2)} | ${row.lastHeapMB.toFixed(2)} | ${signed(row.lastHeapMB - row.firstHeapMB, 2)} |`,
    );
  }
  return lines.join('\n');
}
