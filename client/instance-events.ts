/**
 * Reading the watch's server-sent events, and resuming the stream from the
 * last id each time the allocator ends it, so that every change is given
 * once.
 */
import { InvalidAnswerError, parseInstance, type Instance } from '../shared/api-types.ts';
import { linesOf } from './log-lines.ts';

/** One change the watch reports; `id` is where the stream stood after it (absent on the listing's events before `synced`). */
export type WatchEvent =
  | { readonly type: 'instance'; readonly instance: Instance; readonly id?: string }
  | { readonly type: 'deleted'; readonly name: string; readonly id?: string }
  /** Closes a full listing: every instance the caller now sees, by name; any other is gone. */
  | { readonly type: 'synced'; readonly names: readonly string[]; readonly id?: string };

/** A server-sent event as the stream carries it: its name, its id if it has one, its data. */
interface RawEvent {
  readonly event: string | undefined;
  readonly id: string | undefined;
  readonly data: string | undefined;
}

/** The events of a text/event-stream body, a block with only an `id:` included (it moves the resume point). */
export async function* serverSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<RawEvent> {
  let event: string | undefined;
  let id: string | undefined;
  let data: string[] = [];
  for await (const line of linesOf(body, false)) {
    if (line === '') {
      if (event !== undefined || id !== undefined || data.length > 0)
        yield { event, id, data: data.length > 0 ? data.join('\n') : undefined };
      event = undefined;
      id = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
}

/** A raw event as a typed one; unknown event names are skipped (undefined). */
export function toWatchEvent(raw: RawEvent): WatchEvent | undefined {
  if (raw.data === undefined) return undefined;
  const id = raw.id === undefined ? {} : { id: raw.id };
  const data = JSON.parse(raw.data) as unknown;
  if (raw.event === 'instance') return { type: 'instance', instance: parseInstance(data), ...id };
  const record = (data ?? {}) as { name?: unknown; names?: unknown };
  if (raw.event === 'deleted') {
    if (typeof record.name !== 'string') throw new InvalidAnswerError('a deleted event without a name');
    return { type: 'deleted', name: record.name, ...id };
  }
  if (raw.event === 'synced') {
    if (!Array.isArray(record.names) || !record.names.every((name) => typeof name === 'string'))
      throw new InvalidAnswerError('a synced event without its names');
    return { type: 'synced', names: record.names as string[], ...id };
  }
  return undefined;
}

/**
 * The events of a watch, opening it again from the last id each time the
 * stream ends (at the allocator's limit, or when its connection breaks),
 * until `signal` is aborted. Gives up after `maxFailures` failed opens or
 * reads in a row, or at once on a failure `retryable` does not accept.
 */
export async function* readWatch(options: {
  /** Opens the stream; `since` is the last id read (undefined on the first open unless the caller gave one). */
  readonly open: (since: string | undefined) => Promise<AsyncIterable<Uint8Array>>;
  readonly since?: string;
  readonly signal?: AbortSignal;
  readonly retryable: (error: unknown) => boolean;
  /** Default 5. */
  readonly maxFailures?: number;
}): AsyncGenerator<WatchEvent> {
  let since = options.since;
  let failures = 0;
  const gaveUp = (error: unknown): boolean => !options.retryable(error) || ++failures >= (options.maxFailures ?? 5);
  while (!options.signal?.aborted) {
    let body: AsyncIterable<Uint8Array>;
    try {
      body = await options.open(since);
    } catch (error) {
      if (options.signal?.aborted) return;
      if (gaveUp(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * failures));
      continue;
    }
    try {
      for await (const raw of serverSentEvents(body)) {
        if (raw.id !== undefined) since = raw.id;
        const event = toWatchEvent(raw);
        failures = 0;
        if (event) yield event;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof InvalidAnswerError || error instanceof SyntaxError || gaveUp(error)) throw error;
    }
  }
}
