import { BadRequestError } from '../errors.ts';
import type { Field } from './fields.ts';

/**
 * The watch's server-sent events, by their `event:` name: `instance` carries
 * an instance whole, as list shows it; `deleted` the name of one the caller
 * no longer sees; `synced` closes a full listing (on connect, and again when
 * the cluster no longer has the history a resume asks for) with the names of
 * every instance the caller now sees, so a client drops any other.
 */
export const WATCH_EVENTS = ['instance', 'deleted', 'synced'] as const;
export type WatchEventName = (typeof WATCH_EVENTS)[number];

/** Where a watch stands: one Kubernetes resourceVersion per list it watches (the caller's own, then those shared with them). */
const WATCH_ID = /^[0-9A-Za-z._-]{1,64}(,[0-9A-Za-z._-]{1,64})?$/;

export function formatWatchId(versions: readonly string[]): string {
  return versions.join(',');
}

export function parseWatchId(text: string, field: string): string[] {
  if (!WATCH_ID.test(text)) throw new BadRequestError(`"${field}" must be the id of an event this watch sent; got "${text.slice(0, 100)}"`);
  return text.split(',');
}

/** The id of the last event read, to resume from (or the `Last-Event-ID` header, which a browser's EventSource sends). */
export function watchSince(description: string): Field<string[] | undefined> {
  return {
    schema: { type: 'string', pattern: WATCH_ID.source, description, examples: ['48213,48190'] },
    required: false,
    parse: (value, name) => (value === undefined ? undefined : parseWatchId(String(value), name)),
  };
}
