import type { CallerIdentity } from '../../../shared/auth/identity.ts';
import { executeCreate } from '../../../shared/executors/create.ts';
import type { AccessContext } from '../../../shared/executors/share.ts';
import { planCreate } from '../../../shared/plans/create-plan.ts';
import { caller, config, template, type world } from './world.ts';

type World = ReturnType<typeof world>;

/** The sharing executors' context for `who`, with the limits of `config`. */
export function accessAs(w: World, who: CallerIdentity, access: Partial<AccessContext['access']> = {}): AccessContext {
  return { ...w.context, caller: who, template, access: { ...config, allowedCallers: [], maxCollaborators: 10, ...access } };
}

/** A new instance owned by `email`, not waited for; its name. */
export async function instanceOwnedBy(w: World, email: string): Promise<string> {
  const plan = planCreate({
    config,
    template,
    caller: caller(email),
    request: { wait: false, waitMs: 60_000 },
    nowMs: w.clock.now(),
    random: w.random,
  });
  return (await executeCreate(w.context, plan)).name;
}
