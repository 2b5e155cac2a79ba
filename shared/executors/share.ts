import { isAccountEntry, SUBJECT_PREFIX } from '../auth/allowed-callers.ts';
import { isAllowedEmail } from '../auth/allowed-emails.ts';
import type { ServiceConfig } from '../config/service-config.ts';
import { BadRequestError } from '../errors.ts';
import type { Instance } from '../instances/instance.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { collaboratorsOf } from '../instances/sharing.ts';
import { accessPatch, type AccessConfig } from '../plans/access-plan.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import { creatorOf, type InstanceSpec } from '../model/record.ts';
import type { InstanceContext } from './context.ts';
import { instanceView } from './instance-view.ts';
import { deploymentOf } from './lifecycle.ts';
import { runTransition } from './transition.ts';

/** Share, unshare and transfer render the instance's template again, and check who it may go to. */
export type AccessContext = InstanceContext & {
  readonly template: DeploymentTemplate;
  readonly access: AccessConfig & Pick<ServiceConfig, 'allowedCallers' | 'maxCollaborators' | 'limits'>;
};

/** Share's and unshare's request: which instance, and whose emails. */
export interface ShareRequest {
  readonly name: string;
  readonly emails: readonly string[];
}

/**
 * Lets `emails` in: each joins the instance's access list after the owner,
 * and sees it in their own list. The template is rendered again, so a
 * running instance's pod restarts; its disk stays. Sharing with someone who
 * already has it changes nothing and restarts nothing.
 */
export async function shareInstance(context: AccessContext, request: ShareRequest): Promise<Instance> {
  const emails = normalized(request.emails);
  const refused = emails.find((email) => !isAllowedEmail(email, context.access));
  if (refused !== undefined)
    throw new BadRequestError(`${refused} may not use this allocator (ALLOCATOR_ALLOWED_CALLERS); it was shared with nobody`);
  return await changeCollaborators(context, request.name, 'share', (current, owner) => {
    if (emails.includes(owner)) throw new BadRequestError(`${owner} owns ${request.name}; share it with others`);
    const next = [...current, ...emails.filter((email) => !current.includes(email))];
    if (next.length > context.access.maxCollaborators)
      throw new BadRequestError(
        `${request.name} may be shared with at most ${context.access.maxCollaborators} people (ALLOCATOR_MAX_COLLABORATORS); it is shared with ${current.length}`,
      );
    return next;
  });
}

/** Takes `emails` off the instance: someone it was not shared with is no change. */
export async function unshareInstance(context: AccessContext, request: ShareRequest): Promise<Instance> {
  const emails = normalized(request.emails);
  return await changeCollaborators(context, request.name, 'unshare', (current) => current.filter((email) => !emails.includes(email)));
}

async function changeCollaborators(
  context: AccessContext,
  name: string,
  kind: 'share' | 'unshare',
  next: (current: string[], owner: string) => string[],
): Promise<Instance> {
  return await runTransition(context, { name, kind }, async (held) => {
    const current = deploymentOf(held);
    const before = collaboratorsOf(current);
    const after = next(before, current.metadata?.annotations?.[ANNOTATIONS.owner] ?? '');
    const spec = (spec: InstanceSpec): InstanceSpec => ({ ...spec, collaborators: after });
    if (after.length === before.length && after.every((email, i) => email === before[i]))
      return { result: await instanceView(context, current), spec };
    const patched = await context.cluster.patchDeployment(
      name,
      accessPatch(context.template, context.access, current, { collaborators: after, creator: creatorOf(held.record) }),
    );
    context.report(`${kind}: ${name} is shared with ${after.length === 0 ? 'nobody' : after.join(', ')}`);
    return { result: await instanceView(context, patched), spec };
  });
}

/** Lower-cased, each once; anything but an email is a 400 naming it. */
export function normalized(emails: readonly string[]): string[] {
  const lowered = [...new Set(emails.map((email) => email.trim().toLowerCase()))];
  const bad = lowered.find((email) => !isAccountEntry(email) || email.startsWith(SUBJECT_PREFIX));
  if (bad !== undefined) throw new BadRequestError(`"${bad.slice(0, 100)}" is not an email`);
  return lowered;
}
