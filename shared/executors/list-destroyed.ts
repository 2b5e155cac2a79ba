import type { DestroyedInstance } from '../api-types.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { allItems } from '../kube/cluster.ts';
import { byNewestDestroyFirst, destroyedInstanceOf, isRestorable, recordFromLegacyRestoreLease } from '../plans/restore-record.ts';
import { RESTORE_RECORD_LABEL } from '../instances/metadata.ts';
import type { CallerContext } from './context.ts';
import { standingOf } from './transition.ts';

const PAGE_SIZE = 500;

/**
 * The caller's destroyed instances that can still be restored (everyone's
 * with `all`, which the policy grants only to admins), newest destroy first:
 * their records in phase destroyed, selected by owner label, within the window.
 */
export async function listDestroyed(
  context: CallerContext & { readonly restoreWindowMs: number },
  request: { readonly all: boolean },
): Promise<DestroyedInstance[]> {
  const { cluster, caller, clock } = context;
  const selector = instanceSelector(context.serverName, request.all ? undefined : ownerHashOf(caller.email));
  const [current, legacy] = await Promise.all([
    allItems((continueToken) =>
      cluster.listRecords({ labelSelector: selector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) }),
    ),
    // Restore Leases of the release before records, until the sweep or a restore carries them over.
    allItems((continueToken) =>
      cluster.listLeases({
        labelSelector: `${selector},${RESTORE_RECORD_LABEL}`,
        limit: PAGE_SIZE,
        ...(continueToken ? { continueToken } : {}),
      }),
    ),
  ]);
  const names = new Set(current.map((record) => record.metadata.name));
  const carried = legacy.flatMap((lease) => {
    const record = recordFromLegacyRestoreLease(lease, context.serverName);
    return record && !names.has(record.metadata.name) ? [record] : [];
  });
  const records = [...current, ...carried];
  const now = clock.now();
  return records
    .filter((record) => {
      const standing = standingOf(context, record);
      return standing !== undefined && standing.role !== 'collaborator' && (standing.role !== 'admin' || request.all);
    })
    .filter((record) => record.status.phase === 'destroyed' && isRestorable(record, now, context.restoreWindowMs))
    .map((record) => destroyedInstanceOf(record, context.restoreWindowMs))
    .sort(byNewestDestroyFirst);
}
