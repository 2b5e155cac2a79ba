import type { V1Deployment } from '@kubernetes/client-node';
import { needsBoundToken } from '../auth/policy.ts';
import { NotFoundError } from '../errors.ts';
import { LABELS } from '../instances/metadata.ts';
import { recordFromDeployment, type InstanceRecord } from '../model/record.ts';
import type { Phase, Role, Standing } from '../model/transitions.ts';
import type { CallerContext } from './context.ts';
import { effectivePhase, standingOf } from './transition.ts';

/**
 * Who may read an instance (its logs, its events), the one place that says
 * so: its owner, its collaborators and admins, whatever its phase; reading
 * needs no hold. Reading changes nothing, so it is no row of TRANSITIONS;
 * the caller's standing comes from the instance's record as for every
 * operation (`standingOf`). A stranger, and a collaborator once the instance
 * is destroyed, get the 404 of an instance that does not exist; an admin
 * acting on someone else's needs a token bound to this allocator, as every
 * admin action does.
 */
export const READERS: readonly Role[] = ['owner', 'collaborator', 'admin'];

/** Refuses a caller who may not read instance `name`; `action` completes an admin's 403 ("sign in to <action>"). */
export function checkMayRead(name: string, standing: Standing | undefined, action: string): void {
  if (standing === undefined || !READERS.includes(standing.role)) throw new NotFoundError(`instance ${name} not found`);
  if (standing.role === 'admin' && !standing.boundToken) throw needsBoundToken(action);
}

/** An instance the caller may read: its record, its Deployment (absent while it has none) and its phase now. */
export interface ReadableInstance {
  readonly record: InstanceRecord;
  readonly deployment: V1Deployment | undefined;
  readonly phase: Phase;
}

/**
 * Instance `name` if the caller may read it, else the 404 of one that does
 * not exist: a destroyed one too, which has nothing left to read.
 */
export async function findReadable(context: CallerContext, name: string, action: string): Promise<ReadableInstance> {
  const found = await readRecord(context, name);
  if (!found) throw new NotFoundError(`instance ${name} not found`);
  checkMayRead(name, standingOf(context, found.record), action);
  const phase = effectivePhase(found.record, context.clock.now(), found.deployment);
  if (phase === 'destroyed' || phase === 'gone') throw new NotFoundError(`instance ${name} not found`);
  return { ...found, phase };
}

/** The record (or, for an instance made before records, one read from its Deployment, not written: reading changes nothing) and Deployment. */
async function readRecord(
  context: CallerContext,
  name: string,
): Promise<{ record: InstanceRecord; deployment: V1Deployment | undefined } | undefined> {
  const { cluster, serverName } = context;
  const [record, deployment] = await Promise.all([cluster.readRecord(name), cluster.readDeployment(name)]);
  const ours = deployment?.metadata?.labels?.[LABELS.allocator] === serverName ? deployment : undefined;
  if (record) return record.metadata.labels[LABELS.allocator] === serverName ? { record, deployment: ours } : undefined;
  return ours ? { record: recordFromDeployment(ours, serverName), deployment: ours } : undefined;
}
