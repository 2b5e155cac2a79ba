import { once } from 'node:events';
import { interruptSignal, UsageError, type Command } from './command.ts';

export const WATCH_COMMANDS: Record<string, Command> = {
  watch: {
    operation: 'watch',
    usage: `usage: allocator watch [--all] [--since ID]

Prints the changes to your instances (and those shared with you) as they
happen, one JSON object a line, until interrupted: first each instance and
{"type":"synced","names":[...]}, then {"type":"instance",...} each time one
changes and {"type":"deleted","name":...} when one goes. Each change carries
its "id"; the allocator ends each stream at its timeout and the CLI goes on
from the last id, printing every change once. --since ID starts after that
id instead of with the listing. --all watches everyone's (admins only).`,
    options: {
      all: { type: 'boolean' },
      since: { type: 'string' },
    },
    run: async ({ client, values, positionals }) => {
      if (positionals.length > 0) throw new UsageError('watch takes no instance name');
      const signal = interruptSignal();
      const events = client().watch({
        ...(values.all === true ? { all: true } : {}),
        ...(typeof values.since === 'string' ? { since: values.since } : {}),
        signal,
      });
      try {
        for await (const event of events) {
          if (!process.stdout.write(`${JSON.stringify(event)}\n`)) await once(process.stdout, 'drain');
        }
      } catch (error) {
        if (signal.aborted) return 0;
        throw error;
      }
      return 0;
    },
  },
};
