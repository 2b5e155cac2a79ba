import type { DestroyedInstance } from '../api-types.ts';
import { mayAccessInstance } from '../auth/policy.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { allItems } from '../kube/cluster.ts';
import { byNewestDestroyFirst, destroyedInstanceOf, isRestorable, restoreRecordSelector } from '../plans/restore-record.ts';
import type { CallerContext } from './context.ts';

const PAGE_SIZE = 500;

/**
 * The caller's destroyed instances that can still be restored (everyone's
 * with `all`, which the policy grants only to admins), newest destroy first:
 * their restore records, selected by label, within the window.
 */
export async function listDestroyed(
  context: CallerContext & { readonly restoreWindowMs: number },
  request: { readonly all: boolean },
): Promise<DestroyedInstance[]> {
  const { cluster, policy, caller, clock } = context;
  const selector = restoreRecordSelector(context.serverName, request.all ? undefined : ownerHashOf(caller.email));
  const records = await allItems((continueToken) =>
    cluster.listLeases({ labelSelector: selector, limit: PAGE_SIZE, ...(continueToken ? { continueToken } : {}) }),
  );
  const now = clock.now();
  return records
    .filter((record) => mayAccessInstance(policy, caller, { metadata: record.metadata ?? {} }))
    .filter((record) => isRestorable(record, now, context.restoreWindowMs))
    .map((record) => destroyedInstanceOf(record, context.restoreWindowMs))
    .sort(byNewestDestroyFirst);
}
