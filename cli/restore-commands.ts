import type { DestroyedInstance } from '../client/allocator-client.ts';
import { UsageError, waitTimeout, waitTimeoutOption, type Command, type OptionValues } from './command.ts';
import { formatAge } from './format.ts';
import { makeProgress } from './progress.ts';

/** `destroyed` and `list --destroyed`: names, or with -l a line each with the destroy's time and the window's end. */
export async function printDestroyed(
  list: () => Promise<DestroyedInstance[]>,
  values: OptionValues,
  now: number = Date.now(),
): Promise<number> {
  const destroyed = await list();
  if (values.json) console.log(JSON.stringify(destroyed, null, 2));
  else if (values.long)
    for (const entry of destroyed)
      console.log(
        `${entry.name}  ${entry.owner}  destroyed ${entry.destroyedAt}  restorable until ${entry.restorableUntil} (${formatAge(Date.parse(entry.restorableUntil) - now)} left)`,
      );
  else for (const entry of destroyed) console.log(entry.name);
  return 0;
}

/** Restore after a destroy: bring an instance back on its kept disk, and list those that can be. */
export const RESTORE_COMMANDS: Record<string, Command> = {
  restore: {
    operation: 'restore',
    usage: `usage: allocator restore <name> [--no-wait] [--json] [--wait-timeout SECONDS] [--lifetime SECONDS]

Makes a destroyed instance again with the same name, mount name and owner, on
the disk its destroy kept (within the allocator's restore window; see
'allocator destroyed'). It counts toward your limit again and gets a fresh
lifetime (--lifetime, or the allocator's default). By default it waits until
the instance is ready; one not ready within --wait-timeout (default 240) is
removed again, and can still be restored.`,
    options: { 'no-wait': { type: 'boolean' }, json: { type: 'boolean' }, lifetime: { type: 'string' }, ...waitTimeoutOption },
    run: async ({ client, values, positionals }) => {
      if (positionals.length !== 1) throw new UsageError('restore takes exactly one instance name');
      const name = positionals[0] as string;
      const lifetime = values.lifetime === undefined ? undefined : Number(values.lifetime);
      if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 0))
        throw new UsageError('--lifetime takes a whole number of seconds');
      const wait = values['no-wait'] !== true;
      const progress = makeProgress();
      progress.update(`${name}: restoring${wait ? ', waiting until it is ready' : ''}`);
      const instance = await client().restore(name, {
        wait,
        ...(wait ? { waitTimeoutSeconds: waitTimeout(values) } : {}),
        ...(lifetime === undefined ? {} : { lifetimeSeconds: lifetime }),
      });
      progress.done(`${name}: ${instance.state}`);
      console.log(values.json ? JSON.stringify(instance, null, 2) : instance.name);
      return 0;
    },
  },
  destroyed: {
    operation: 'destroyed',
    usage: `usage: allocator destroyed [-l] [--json] [--all]

Lists your destroyed instances that 'allocator restore' can still bring back,
newest destroy first: names, or with -l until when each can be restored.
The same as 'allocator list --destroyed'. --all lists everyone's (admins only).`,
    options: { long: { type: 'boolean', short: 'l' }, json: { type: 'boolean' }, all: { type: 'boolean' } },
    run: async ({ client, values }) => await printDestroyed(() => client().listDestroyed({ all: values.all === true }), values),
  },
};
