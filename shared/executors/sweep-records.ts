import type { V1Deployment } from '@kubernetes/client-node';
import { LABELS, LEGACY_LOCK_LABEL, LEGACY_LOCKED_AT, LEGACY_TICKET_LABEL } from '../instances/metadata.ts';
import { allItems } from '../kube/cluster.ts';
import { recordFromLegacyRestoreLease, isRestorable, legacyRestoreLeaseSelector } from '../plans/restore-record.ts';
import type { SweepReport } from '../api-types.ts';
import { AbortedError, AlreadyExistsError, ConflictError } from '../errors.ts';
import { describeErrorChain } from '../http/request-log.ts';
import { followingDeployment, ownerBeforeDeployment, startedAtMs, type InstanceRecord } from '../model/record.ts';
import type { KeepContext } from './destroy.ts';
import { dropKept, dropOverCount, isKept, tearDown } from './destroy.ts';
import { isLive, legacyTicketOf, placeOf } from '../plans/queue.ts';
import { removeQueued } from './queue.ts';
import { deleteLease } from './teardown.ts';
import { effectivePhase, loadInstance, type TransitionContext } from './transition.ts';

/** One step of the walk: what it does to the object `name`, in words for the report, and the work. */
type Act = (name: string, line: string, work: () => Promise<unknown>) => Promise<void>;

/** The sweep's part that walks the records: what it did, one line each, for the sweep's report. */
export type RecordsContext = TransitionContext & KeepContext & { readonly graceMs: number };

/**
 * Reconciles the records: a hold past its deadline is ended where its
 * failure would have left the instance; a destroyed instance past its window
 * is gone (its disk, then its record); a record whose Deployment is gone,
 * with nothing in progress past the grace period, is torn down (its disk
 * kept within a restore window, unless its create never made the
 * Deployment); an owner's kept instances beyond their count go, oldest first (a
 * destroy interrupted before it made room); a queued create whose waiter
 * stopped holding it leaves the line; a
 * restore Lease left by a release before records becomes a record, and its
 * lock and ticket Leases go once nobody can hold them any more.
 */
export async function reconcileRecords(
  context: RecordsContext,
  request: {
    readonly dryRun: boolean;
    /** This allocator's Deployments, as the sweep's scan listed them; listed here when not given. */
    readonly deployments?: readonly V1Deployment[];
    /** Its records, as the sweep's scan listed them when nothing changed since; listed here when not given. */
    readonly records?: readonly InstanceRecord[];
    /** Where a failed step goes: one instance's failure is reported, and the walk goes on to the next. */
    readonly failed?: SweepReport['failed'][number][];
  },
): Promise<string[]> {
  const done: string[] = [];
  const act: Act = async (name, line, work) => {
    if (request.dryRun) return void done.push(`would ${line}`);
    try {
      await work();
      done.push(line);
    } catch (error) {
      // Held by an operation since the walk read it: that operation's to finish, and the next sweep looks again.
      if (error instanceof AbortedError) return context.report(`${line}: left for the next sweep (${error.message})`);
      const failure = { kind: 'record', name, error: describeErrorChain(error) };
      request.failed?.push(failure);
      context.report(`could not ${line}: ${failure.error}`);
    }
  };
  await carryOverRestoreLeases(context, act);
  await dropLegacyLocks(context, act);
  await dropLegacyTickets(context, act);
  const selector = `${LABELS.allocator}=${context.serverName}`;
  const page = (continueToken: string | undefined) => ({
    labelSelector: selector,
    limit: 500,
    ...(continueToken ? { continueToken } : {}),
  });
  const [deployments, records] = await Promise.all([
    request.deployments ?? allItems((token) => context.cluster.listDeployments(page(token))),
    request.records ?? allItems((token) => context.cluster.listRecords(page(token))),
  ]);
  const deploymentOf = new Map(deployments.map((deployment) => [deployment.metadata?.name ?? '', deployment]));
  await adoptUnrecorded(context, act, deployments, records);
  const now = context.clock.now();
  for (const found of records) {
    const name = found.metadata.name;
    // In line, it has no Deployment yet and needs none: only its waiter's hold counts. No grace: it holds nothing.
    if (found.status.phase === 'queued') {
      if (!isLive(placeOf(found), now))
        await act(name, `remove the queued create ${name}, whose waiter went away`, () => removeQueued(context, found));
      continue;
    }
    const held = found.status.operation;
    const dead = held !== undefined && Date.parse(held.deadline) < now;
    if (held && !dead) continue;
    const phase = dead ? effectivePhase(found, now, deploymentOf.get(name)) : found.status.phase;
    // A dead hold ends first; what it leaves is then judged in the same pass.
    let record = found;
    if (held && dead) {
      let ended: InstanceRecord | undefined;
      await act(name, `end the ${held.kind} of ${name}, past its deadline, in ${phase}`, async () => {
        ended = await endHold(context, found, phase);
      });
      if (ended === undefined) continue; // a dry run, or a live operation took it meanwhile
      record = ended;
    }
    if (phase === 'destroyed') {
      if (!isRestorable(record, now, context.restoreWindowMs))
        await act(name, `drop ${name}, past its restore window`, () => dropKept(context, record));
      continue;
    }
    const deployment = deploymentOf.get(name);
    const age = now - startedAtMs(record);
    // Gone since the scan, or by its list: read once more before tearing anything down.
    if (deployment === undefined && (await context.cluster.readDeployment(name)) === undefined) {
      // A create that never made its Deployment leaves nothing worth keeping; an instance that ran (its Deployment deleted
      // by hand, or a destroy that failed after it) keeps its disk within a restore window, as a destroy would.
      const ran = phase !== 'provisioning';
      if (age > context.graceMs)
        await act(name, `tear down ${name}, whose Deployment is gone`, () =>
          tearDown(context, { name, ...(ran ? {} : { now: true }), bySweep: true }),
        );
      continue;
    }
    if (deployment === undefined) continue;
    // Who may reach it is what its Deployment says: a share or transfer whose record write was lost is recorded now,
    // if a fresh read agrees (the scan's list may predate a transfer the record already has).
    if (JSON.stringify(followingDeployment(record.spec, deployment)) === JSON.stringify(record.spec)) continue;
    const fresh = await context.cluster.readDeployment(name);
    const followed = fresh ? followingDeployment(record.spec, fresh) : record.spec;
    if (JSON.stringify(followed) === JSON.stringify(record.spec)) continue;
    const current = record;
    const before = fresh ? ownerBeforeDeployment(record.spec, fresh) : undefined;
    await act(name, `record who may reach ${name}, as its Deployment says`, async () => {
      try {
        const written = await context.cluster.replaceRecord({ ...current, spec: followed }, 'spec');
        if (before) await context.cluster.replaceRecord({ ...written, status: { ...written.status, previousOwner: before } }, 'status');
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    });
  }
  for (const owner of ownersOverCount(records, context, now))
    await act(owner, `drop the oldest kept instances of ${owner} beyond their count of ${context.keptPerUser}`, () =>
      dropOverCount(context, owner),
    );
  return done;
}

/** The owners with more kept instances, still restorable, than their count. */
function ownersOverCount(records: readonly InstanceRecord[], context: RecordsContext, now: number): string[] {
  const kept = new Map<string, number>();
  for (const record of records) {
    if (!isKept(record) || !isRestorable(record, now, context.restoreWindowMs)) continue;
    kept.set(record.spec.owner.email, (kept.get(record.spec.owner.email) ?? 0) + 1);
  }
  return [...kept].filter(([, count]) => count > context.keptPerUser).map(([owner]) => owner);
}

/** Ends a dead hold: the phase its failure leaves, conditional on the record read, so a live operation that took it since keeps it. */
async function endHold(
  context: RecordsContext,
  record: InstanceRecord,
  phase: InstanceRecord['status']['phase'],
): Promise<InstanceRecord | undefined> {
  const { operation: _dead, ...status } = record.status;
  return await context.cluster.replaceRecord({ ...record, status: { ...status, phase } }, 'status').catch((error: unknown) => {
    if (error instanceof ConflictError) return undefined;
    throw error;
  });
}

async function carryOverRestoreLeases(context: RecordsContext, act: Act): Promise<void> {
  const leases = (await context.cluster.listLeases({ labelSelector: legacyRestoreLeaseSelector(context.serverName) })).items;
  for (const lease of leases) {
    const record = recordFromLegacyRestoreLease(lease, context.serverName);
    const name = lease.metadata?.name ?? '';
    await act(name, `carry the restore Lease ${name} over to a record`, async () => {
      if (record) await adoptDestroyed(context, record);
      await deleteLease(context, lease);
    });
  }
}

/** Writes the record of each instance of a release before records that no operation has touched yet, from its Deployment. */
async function adoptUnrecorded(
  context: RecordsContext,
  act: Act,
  deployments: readonly V1Deployment[],
  records: readonly InstanceRecord[],
): Promise<void> {
  const recorded = new Set(records.map((record) => record.metadata.name));
  for (const deployment of deployments) {
    const name = deployment.metadata?.name ?? '';
    if (recorded.has(name) || deployment.metadata?.deletionTimestamp) continue;
    await act(name, `write the record of ${name}, made before records`, () => loadInstance(context, name));
  }
}

/** Deletes the lock Leases of a release before records once their duration has passed: one may still hold them until then. */
async function dropLegacyLocks(context: RecordsContext, act: Act): Promise<void> {
  const selector = `${LABELS.allocator}=${context.serverName},${LEGACY_LOCK_LABEL}`;
  for (const lease of (await context.cluster.listLeases({ labelSelector: selector })).items) {
    const lockedAt = Date.parse(lease.metadata?.annotations?.[LEGACY_LOCKED_AT] ?? '');
    const until = lockedAt + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (Number.isFinite(until) && until >= context.clock.now()) continue;
    await act(lease.metadata?.name ?? '', `delete the lock Lease ${lease.metadata?.name ?? ''} of a release before records`, () =>
      deleteLease(context, lease),
    );
  }
}

/**
 * Deletes the queue tickets of a release before queued records once their
 * waiter stopped renewing them. A live one is left: its waiter, a process of
 * that release still running, renews it and would only take another; it
 * claims its slots as before, so the limits stay exact. Its caller's next
 * re-send reaches this release and waits in line as a record.
 */
async function dropLegacyTickets(context: RecordsContext, act: Act): Promise<void> {
  const selector = `${LABELS.allocator}=${context.serverName},${LEGACY_TICKET_LABEL}`;
  for (const lease of (await context.cluster.listLeases({ labelSelector: selector })).items) {
    const ticket = legacyTicketOf(lease);
    if (ticket && ticket.deadlineMs >= context.clock.now()) continue;
    await act(lease.metadata?.name ?? '', `delete the queue ticket ${lease.metadata?.name ?? ''} of a release before queued records`, () =>
      deleteLease(context, lease),
    );
  }
}

/** Creates the record of an instance destroyed before records, in phase destroyed; one there already (written meanwhile) stays. */
export async function adoptDestroyed(context: Pick<RecordsContext, 'cluster'>, record: InstanceRecord): Promise<InstanceRecord> {
  try {
    const created = await context.cluster.createRecord(record);
    return await context.cluster.replaceRecord({ ...created, status: record.status }, 'status');
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    return (await context.cluster.readRecord(record.metadata.name)) ?? record;
  }
}
