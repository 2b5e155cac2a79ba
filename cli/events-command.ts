import type { ClusterEvent } from '../client/allocator-client.ts';
import { printable, printableJson } from './format.ts';
import { UsageError, type Command } from './command.ts';

/** What an event is about, as a line shows it: `instance`, `pod`, or `service <name>`. */
const subjectOf = (event: ClusterEvent): string => (event.about === 'service' ? `service ${event.service ?? ''}` : event.about);

/**
 * The events as `allocator events` prints them, one line each:
 * `<time>  <about>  [warning: ]<message>[ (N times since <first time>)]`,
 * the subjects padded to one width; times in UTC to the second.
 */
export function formatEventLines(events: readonly ClusterEvent[]): string[] {
  const width = Math.max(0, ...events.map((event) => subjectOf(event).length));
  const second = (time: string): string => time.replace(/\.\d+Z$/, 'Z');
  return events.map((event) => {
    const repeats = event.count > 1 ? ` (${event.count} times${event.firstTime ? ` since ${second(event.firstTime)}` : ''})` : '';
    return printable(
      `${second(event.time)}  ${subjectOf(event).padEnd(width)}  ${event.warning ? 'warning: ' : ''}${event.message}${repeats}`,
    );
  });
}

export const EVENTS_COMMANDS: Record<string, Command> = {
  events: {
    operation: 'events',
    usage: `usage: allocator events <name> [--json]

Shows what happened to the instance, in plain words, oldest first: what
Kubernetes reported about it, its pod and its Services in the last hour or
so (it keeps events that long), such as its pod being made and placed on a
node, its image downloaded, its disk attached, or why any of these failed.
Something that went wrong is marked "warning:"; a repeat is counted instead
of shown again. Yours, one shared with you, or (for an admin) anyone's.
--json prints the events as the allocator answers them.`,
    options: { json: { type: 'boolean' } },
    run: async ({ client, values, positionals }) => {
      const [name, ...extra] = positionals;
      if (name === undefined || extra.length > 0) throw new UsageError('events takes one instance name');
      const events = await client().events(name);
      if (values.json) console.log(printableJson(events));
      else if (events.length === 0) console.error(`allocator: nothing was reported about ${name} in the last hour or so`);
      else for (const line of formatEventLines(events)) console.log(line);
      return 0;
    },
  },
};
