import type { V1Deployment, V1Lease } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { instanceFromDeployment } from '../instances/instance.ts';
import { ANNOTATIONS } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { collaboratorsOf, sharedLabelKey } from '../instances/sharing.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import type { CreateConfig, CreatePlan } from './create-plan.ts';
import { buildInstanceDeployment, parametersToRenderAgain } from './deployment.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';
import { NOT_KEPT, recordedInstance } from './restore-record.ts';
import { slotPools } from './slots.ts';

/** What a caller asks of restore, parsed. */
export interface RestoreRequest {
  readonly name: string;
  readonly wait: boolean;
  readonly waitMs: number;
  readonly lifetimeSeconds?: number;
}

/** Everything a restore makes again: the slots and the Deployment, on the disk that was kept. */
export type RestorePlan = Pick<CreatePlan, 'name' | 'createdAt' | 'slots' | 'deployment' | 'instance' | 'wait' | 'waitMs'>;

/**
 * The restore of `record`'s instance: the same name, owner, creator, mount
 * name, collaborators and parameters, rendered by today's template and settings, with a
 * fresh lifetime. What the
 * record holds beyond what a render writes (a later version's annotations) is
 * kept as it was. Pure: the clock and randomness come in.
 */
export function planRestore(inputs: {
  readonly config: CreateConfig;
  readonly template: DeploymentTemplate;
  readonly record: V1Lease;
  readonly caller: CallerIdentity;
  readonly request: RestoreRequest;
  readonly nowMs: number;
  readonly random: (bytes: number) => Buffer;
}): RestorePlan {
  const { config, record, request, nowMs } = inputs;
  const name = recordedInstance(record);
  const recorded = record.metadata?.annotations ?? {};
  const ownerEmail = recorded[ANNOTATIONS.owner] ?? '';
  // An instance made before the account id was recorded gets its owner's when the owner restores it.
  const ownerSubject = recorded[ANNOTATIONS.ownerSubject] ?? (inputs.caller.email === ownerEmail ? inputs.caller.subject : undefined);
  const collaborators = collaboratorsOf({ metadata: record.metadata ?? {} });
  const createdAt = new Date(nowMs).toISOString();
  const expiresAt = expiryFor(resolveLifetimeSeconds(request.lifetimeSeconds, config.lifetime), nowMs);
  const built = buildInstanceDeployment(inputs.template, {
    serverName: config.serverName,
    name,
    diskZone: config.compute.zone,
    ownerEmail,
    ownerSubject: ownerSubject ?? '',
    admins: config.admins,
    accessListFormat: config.accessListFormat,
    mountRoot: config.mountRoot,
    ...(recorded[ANNOTATIONS.mountName] ? { mountName: recorded[ANNOTATIONS.mountName] } : {}),
    ...(recorded[ANNOTATIONS.creator] ? { creatorEmail: recorded[ANNOTATIONS.creator] } : {}),
    collaborators,
    parameters: parametersToRenderAgain(recorded, config.parameters),
    version: config.version,
    createdAt,
    ...(expiresAt ? { expiresAt } : {}),
  });
  const carried = Object.fromEntries(Object.entries(recorded).filter(([key]) => !NOT_KEPT.includes(key)));
  const annotations: Record<string, string> = { ...carried, ...built.metadata?.annotations };
  if (ownerSubject === undefined) delete annotations[ANNOTATIONS.ownerSubject];
  // The collaborators' labels, which list the instance for them, as a share writes them.
  const labels = { ...built.metadata?.labels, ...Object.fromEntries(collaborators.map((email) => [sharedLabelKey(email), 'true'])) };
  const deployment: V1Deployment = { ...built, metadata: { ...built.metadata, labels, annotations } };
  return {
    name,
    createdAt,
    slots: slotPools({
      serverName: config.serverName,
      ownerHash: ownerHashOf(ownerEmail),
      instance: name,
      attempt: inputs.random(4).toString('hex'),
      limits: config.limits,
      random: inputs.random(4).readUInt32BE(0),
    }),
    deployment,
    instance: instanceFromDeployment(deployment),
    wait: request.wait,
    waitMs: request.waitMs,
  };
}
