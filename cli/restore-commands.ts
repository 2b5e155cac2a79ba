import type { DestroyedInstance } from '../client/allocator-client.ts';
import { UsageError, waitTimeout, waitTimeoutOption, type Command, type OptionValues } from './command.ts';
import { formatAge } from './format.ts';
import { makeProgress, StepLines } from './progress.ts';

/**
 * The destroyed list as the list function answers it: with its restore
 * window, `0` when the allocator keeps no disks. A bare list is the answer of
 * an allocator that does not say.
 */
export type DestroyedAnswer = DestroyedInstance[] | { readonly destroyed: DestroyedInstance[]; readonly restoreWindowSeconds?: number };

/**
 * `destroyed` and `list --destroyed`: names, or with -l a line each with the
 * destroy's time and the window's end; on stderr, where restore is off, that
 * it is and which setting turns it on (nothing is listed then, which alone
 * would look like nothing destroyed).
 */
export async function printDestroyed(
  list: () => Promise<DestroyedAnswer>,
  values: OptionValues,
  now: number = Date.now(),
): Promise<number> {
  const answer = await list();
  const destroyed = Array.isArray(answer) ? answer : answer.destroyed;
  if (values.json) console.log(JSON.stringify(destroyed, null, 2));
  else if (values.long)
    for (const entry of destroyed)
      console.log(
        `${entry.name}  ${entry.owner}  destroyed ${entry.destroyedAt}  restorable until ${entry.restorableUntil} (${formatAge(Date.parse(entry.restorableUntil) - now)} left)`,
      );
  else for (const entry of destroyed) console.log(entry.name);
  if (!Array.isArray(answer) && answer.restoreWindowSeconds === 0) {
    console.error('allocator: restore is off here: this allocator keeps no disk after a destroy, so none can be restored.');
    console.error("Its operator turns it on with ALLOCATOR_RESTORE_WINDOW_SECONDS (the deploy's _RESTORE_WINDOW_SECONDS).");
  }
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
        onProgress: new StepLines(progress, name).show,
      });
      if (!wait) progress.done(`${name}: ${instance.state}`);
      console.log(values.json ? JSON.stringify(instance, null, 2) : instance.name);
      return 0;
    },
  },
  destroyed: {
    operation: 'destroyed',
    usage: `usage: allocator destroyed [-l] [--json] [--all]

Lists your destroyed instances that 'allocator restore' can still bring back,
newest destroy first: names, or with -l until when each can be restored.
The same as 'allocator list --destroyed'. --all lists everyone's (admins only).
'allocator destroy --now <name>' deletes one's kept disk for good.`,
    options: { long: { type: 'boolean', short: 'l' }, json: { type: 'boolean' }, all: { type: 'boolean' } },
    run: async ({ client, values }) => await printDestroyed(() => client().destroyedList({ all: values.all === true }), values),
  },
};
