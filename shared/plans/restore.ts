import type { V1Deployment } from '@kubernetes/client-node';
import type { CallerIdentity } from '../auth/identity.ts';
import { instanceFromDeployment } from '../instances/instance.ts';
import { ANNOTATIONS, parametersAnnotation } from '../instances/metadata.ts';
import type { InstanceRecord } from '../model/record.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { sharedLabelKey } from '../instances/sharing.ts';
import type { DeploymentTemplate } from '../template/deployment-template.ts';
import type { CreateConfig, CreatePlan } from './create-plan.ts';
import { buildInstance, parametersToRenderAgain } from './deployment.ts';
import { expiryFor, resolveLifetimeSeconds } from './lifetime.ts';
import { slotPools } from './slots.ts';

/** What a caller asks of restore, parsed. */
export interface RestoreRequest {
  readonly name: string;
  readonly wait: boolean;
  readonly waitMs: number;
  readonly lifetimeSeconds?: number;
}

/** Everything a restore makes again: the slots, the Deployment and the template's Services and ConfigMaps, on the disk that was kept. */
export type RestorePlan = Pick<CreatePlan, 'name' | 'createdAt' | 'slots' | 'deployment' | 'objects' | 'instance' | 'wait' | 'waitMs'>;

/**
 * The restore of `record`'s instance: the same name, owner, creator, mount
 * name, collaborators and parameters, rendered by today's template and
 * settings, with a fresh lifetime. Pure: the clock and randomness come in.
 */
export function planRestore(inputs: {
  readonly config: CreateConfig;
  readonly template: DeploymentTemplate;
  readonly record: InstanceRecord;
  readonly caller: CallerIdentity;
  readonly request: RestoreRequest;
  readonly nowMs: number;
  readonly random: (bytes: number) => Buffer;
}): RestorePlan {
  const { config, record, request, nowMs } = inputs;
  const { spec } = record;
  const name = record.metadata.name;
  const ownerEmail = spec.owner.email;
  // An instance made before the account id was recorded gets its owner's when the owner restores it.
  const ownerSubject = spec.owner.subject ?? (inputs.caller.email === ownerEmail ? inputs.caller.subject : undefined);
  const createdAt = new Date(nowMs).toISOString();
  const expiresAt = expiryFor(resolveLifetimeSeconds(request.lifetimeSeconds, config.lifetime), nowMs);
  const { deployment: built, objects } = buildInstance(inputs.template, {
    serverName: config.serverName,
    name,
    diskZone: config.compute.zone,
    ownerEmail,
    ownerSubject: ownerSubject ?? '',
    admins: config.admins,
    accessListFormat: config.accessListFormat,
    mountRoot: config.mountRoot,
    ...(spec.mountName ? { mountName: spec.mountName } : {}),
    ...(spec.creator ? { creatorEmail: spec.creator } : {}),
    collaborators: spec.collaborators,
    parameters: parametersToRenderAgain(parametersAnnotation(spec.parameters), config.parameters),
    version: config.version,
    createdAt,
    ...(expiresAt ? { expiresAt } : {}),
  });
  // Who it is shared with, as share writes it.
  const annotations: Record<string, string> = {
    ...built.metadata?.annotations,
    ...(spec.collaborators.length > 0 ? { [ANNOTATIONS.collaborators]: JSON.stringify(spec.collaborators) } : {}),
  };
  if (ownerSubject === undefined) delete annotations[ANNOTATIONS.ownerSubject];
  // The collaborators' labels, which list the instance for them, as a share writes them.
  const labels = { ...built.metadata?.labels, ...Object.fromEntries(spec.collaborators.map((email) => [sharedLabelKey(email), 'true'])) };
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
    objects,
    instance: instanceFromDeployment(deployment),
    wait: request.wait,
    waitMs: request.waitMs,
  };
}
