/**
 * Reading an instance's log stream as lines, and resuming a followed one
 * where it ended without losing or repeating a line. Each line starts with
 * its RFC 3339 time, as the Kubernetes log API writes it with
 * `timestamps=true`.
 */

/** One open log stream: its bytes, and until when the allocator follows it (a stream that ends before then has no more to give). */
export interface LogSegment {
  readonly body: AsyncIterable<Uint8Array>;
  /** From the answer's `X-Allocator-Follow-Until`; undefined: not followed. */
  readonly followUntil?: number;
  /** When the allocator opened it (its `Date`), RFC 3339: where a resume starts if no line came. */
  readonly openedAt?: string;
}

export { FOLLOW_UNTIL_HEADER } from '../shared/api/log-fields.ts';

/** Where a line stands in time: its timestamp as seconds and nanoseconds (the API trims trailing zeros, so text order is not time order). */
export function lineTime(line: string): bigint | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /.exec(line);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** The timestamp text that starts `line`. */
function timestampOf(line: string): string {
  return line.slice(0, line.indexOf(' '));
}

/**
 * The complete lines of `body` (without their newline), decoded as UTF-8
 * across chunk boundaries. An unfinished last line is given only when
 * `keepPartial`: a followed stream cut at its end resends it on resume.
 */
export async function* linesOf(body: AsyncIterable<Uint8Array>, keepPartial: boolean): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (keepPartial && pending !== '') yield pending;
}

/**
 * What a resume skips: every line before the last one given, and as many
 * lines at that line's exact time as were given (the API's `sinceTime`
 * counts in whole seconds, so a resume starts again at the second's start).
 */
export class ResumePoint {
  #time: bigint | undefined;
  #timestamp: string | undefined;
  #atTime = 0;

  /** Records a line given to the reader. */
  seen(line: string): void {
    const time = lineTime(line);
    if (time === undefined) return;
    if (time === this.#time) this.#atTime += 1;
    else {
      this.#time = time;
      this.#timestamp = timestampOf(line);
      this.#atTime = 1;
    }
  }

  /** The `sinceTime` to resume from; undefined before any line. */
  get sinceTime(): string | undefined {
    return this.#timestamp;
  }

  /** A filter for the resumed stream's lines: true for those not given yet. */
  skipper(): (line: string) => boolean {
    const time = this.#time;
    let skip = this.#atTime;
    let past = time === undefined;
    return (line) => {
      if (past) return true;
      const at = lineTime(line);
      if (at === undefined || time === undefined) return true;
      if (at < time) return false;
      if (at === time && skip > 0) {
        skip -= 1;
        return false;
      }
      past = true;
      return true;
    };
  }
}

/**
 * The lines of a log, opening it again while it is followed: when a
 * segment ends at the allocator's follow limit (or its connection breaks),
 * the next starts from the last line's time and skips what was given.
 * It ends when a followed stream ends before its limit (the container
 * stopped), or after `maxResumes` opens in a row that fail.
 */
export async function* readLog(options: {
  readonly follow: boolean;
  /** Opens a segment; `sinceTime` is set on every open after the first. */
  readonly open: (sinceTime: string | undefined) => Promise<LogSegment>;
  readonly now?: () => number;
  /** Failed opens or reads in a row before giving up; default 5. */
  readonly maxFailures?: number;
  /** Which failures of a resume are worth another open; default broken connections and timeouts. */
  readonly retryable?: (error: unknown) => boolean;
}): AsyncGenerator<string> {
  const isBreak = options.retryable ?? isBroken;
  const now = options.now ?? Date.now;
  const point = new ResumePoint();
  let failures = 0;
  let openedAt: string | undefined;
  for (let first = true; ; first = false) {
    const keep = point.skipper();
    let segment: LogSegment;
    try {
      segment = await options.open(first ? undefined : (point.sinceTime ?? openedAt));
      openedAt ??= segment.openedAt;
    } catch (error) {
      if (first || !isBreak(error) || ++failures >= (options.maxFailures ?? 5)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * failures));
      continue;
    }
    try {
      for await (const line of linesOf(segment.body, !options.follow)) {
        if (!keep(line)) continue;
        point.seen(line);
        failures = 0;
        yield line;
      }
    } catch (error) {
      if (!options.follow || !isBreak(error) || ++failures >= (options.maxFailures ?? 5)) throw error;
      continue;
    }
    // Ended before the allocator meant to end it: the container stopped, there is no more.
    if (!options.follow || segment.followUntil === undefined || now() < segment.followUntil - 1_000) return;
  }
}

/** A broken connection or a timeout, worth opening again. */
function isBroken(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return error instanceof TypeError || name === 'TimeoutError';
}
