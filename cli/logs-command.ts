import { once } from 'node:events';
import { interruptSignal, UsageError, type Command } from './command.ts';

/** Strips the RFC 3339 time that starts each line, unless asked to keep it. */
function withoutTime(line: string): string {
  const space = line.indexOf(' ');
  return space > 0 && /^\d{4}-\d{2}-\d{2}T/.test(line) ? line.slice(space + 1) : line;
}

export const LOGS_COMMANDS: Record<string, Command> = {
  logs: {
    operation: 'logs',
    usage: `usage: allocator logs <name> [--follow] [--since DURATION | --since-time TIME] [--tail N]
                      [--container NAME] [--timestamps]

Prints the logs of the instance's pod: yours, one shared with you, or (for
an admin) anyone's. --follow keeps printing new lines until interrupted;
the allocator ends each stream at its timeout, and the CLI opens it again
from the last line's time, printing every line once. --since takes 30s, 5m,
2h or 1h30m; --since-time an RFC 3339 time. --tail prints only the last N
lines first. --container picks one of the pod's containers (default: its
first). --timestamps keeps each line's time, as the allocator sends it.`,
    options: {
      follow: { type: 'boolean', short: 'f' },
      since: { type: 'string' },
      'since-time': { type: 'string' },
      tail: { type: 'string' },
      container: { type: 'string', short: 'c' },
      timestamps: { type: 'boolean' },
    },
    run: async ({ client, values, positionals }) => {
      const [name, ...extra] = positionals;
      if (name === undefined || extra.length > 0) throw new UsageError('logs takes one instance name');
      const tail = values.tail === undefined ? undefined : Number(values.tail);
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError('--tail takes a whole number of lines');
      const signal = interruptSignal();
      const lines = client().logs(name, {
        follow: values.follow === true,
        ...(typeof values.since === 'string' ? { since: values.since } : {}),
        ...(typeof values['since-time'] === 'string' ? { sinceTime: values['since-time'] } : {}),
        ...(tail === undefined ? {} : { tailLines: tail }),
        ...(typeof values.container === 'string' ? { container: values.container } : {}),
        signal,
      });
      try {
        for await (const line of lines) {
          // Written as it comes, at the pace the terminal or pipe takes it.
          if (!process.stdout.write(`${values.timestamps ? line : withoutTime(line)}\n`)) await once(process.stdout, 'drain');
        }
      } catch (error) {
        if (signal.aborted) return 0;
        throw error;
      }
      return 0;
    },
  },
};
