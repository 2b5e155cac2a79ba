import { describe, expect, it } from 'vitest';
import { lineTime, linesOf, readLog, type LogSegment } from '../../../client/log-lines.ts';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

async function all(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('linesOf', () => {
  it('splits across chunks, multi-byte characters included, and keeps an unfinished last line only when asked', async () => {
    const euro = new TextEncoder().encode('€');
    const parts = ['a\nb', euro.slice(0, 1), euro.slice(1), 'c\nd'];
    expect(await all(linesOf(chunks(...parts), true))).toEqual(['a', 'b€c', 'd']);
    expect(await all(linesOf(chunks(...parts), false))).toEqual(['a', 'b€c']);
  });
});

describe('lineTime', () => {
  it('orders by time, not by text: the API trims trailing zeros', () => {
    const a = lineTime('2026-01-02T15:04:05.1Z x')!;
    const b = lineTime('2026-01-02T15:04:05.09Z x')!;
    expect(a > b).toBe(true);
    expect(lineTime('2026-01-02T15:04:05Z x')).toBe(lineTime('2026-01-02T15:04:05.000000000Z y'));
    expect(lineTime('no time')).toBeUndefined();
  });
});

/**
 * A log as the API serves it: `sinceTime` counts in whole seconds, so a
 * resume sends again every line of the second it names.
 */
function fakeLog(lines: readonly string[]) {
  const opened: (string | undefined)[] = [];
  const open =
    (cut: (index: number) => number) =>
    async (sinceTime: string | undefined): Promise<LogSegment> => {
      opened.push(sinceTime);
      const from =
        sinceTime === undefined ? 0 : lines.findIndex((line) => lineTime(line)! >= (lineTime(`${sinceTime.replace(/\.\d+/, '')} x`) ?? 0n));
      const end = cut(opened.length);
      const text = lines.slice(from, end).join('\n') + (end > from ? '\n' : '');
      // Each segment is cut mid-line, as a stream ended at the follow limit may be.
      const partial = end < lines.length ? lines[end]!.slice(0, 12) : '';
      return { body: chunks(text + partial), followUntil: 0 };
    };
  return { opened, open };
}

describe('readLog', () => {
  const lines = [
    '2026-01-02T15:04:05.1Z one',
    '2026-01-02T15:04:05.2Z two',
    '2026-01-02T15:04:05.2Z two', // the same time and text twice: both are lines
    '2026-01-02T15:04:05.3Z three',
    '2026-01-02T15:04:06Z four',
    '2026-01-02T15:04:06.5Z five',
  ];

  it.each([1, 2, 3, 4, 5])('gives every line once, in order, across resumes every %d lines', async (every) => {
    const log = fakeLog(lines);
    let resumes = 0;
    const read = readLog({
      follow: true,
      open: async (since) => {
        if (log.opened.length > lines.length) throw new Error('too many opens');
        return await log.open((n) => Math.min(n * every, lines.length))(since);
      },
      // Past each segment's limit until the last, which ends early: the container stopped.
      now: () => (resumes++ < Math.ceil(lines.length / every) - 1 ? 1_000 : -10_000),
    });
    expect(await all(read)).toEqual(lines);
    expect(log.opened[0]).toBeUndefined();
    expect(log.opened.slice(1).every((since) => since !== undefined)).toBe(true);
  });

  it('does not resume a stream that is not followed', async () => {
    const log = fakeLog(lines);
    expect(await all(readLog({ follow: false, open: log.open(() => 2) }))).toEqual([...lines.slice(0, 2), lines[2]!.slice(0, 12)]);
    expect(log.opened).toHaveLength(1);
  });

  it('opens again after a broken connection, and gives up after repeated failures', async () => {
    let opens = 0;
    const read = readLog({
      follow: true,
      maxFailures: 3,
      now: () => 0,
      open: async () => {
        opens += 1;
        if (opens === 1) return { body: chunks('2026-01-02T15:04:05Z a\n'), followUntil: 0 };
        throw new TypeError('fetch failed');
      },
    });
    await expect(all(read)).rejects.toThrow('fetch failed');
    expect(opens).toBe(4);
  });
});
