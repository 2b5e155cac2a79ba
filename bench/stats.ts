/** The p-th percentile (0-100) of `samples`, by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
export const ratio = (value: number, baseline: number): string => `${(value / baseline).toFixed(2)}x`;

/** Prints `rows` (measure, allocator, baseline, ratio) under `title`, in aligned columns. */
export function printTable(title: string, rows: readonly string[][]): void {
  const header = ['measure', 'allocator', 'baseline', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
