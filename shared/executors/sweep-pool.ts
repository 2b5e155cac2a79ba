import type { SweepReport } from '../api-types.ts';
import { describeErrorChain } from '../http/request-log.ts';
import { planPoolSweep, poolSpecHash } from '../plans/disk-pool.ts';
import { listPoolDisks, makePoolDisk, retirePoolDisk, type PoolContext } from './disk-pool.ts';

/**
 * The sweep's share of the pool: it tops the pool up to its size, and deletes
 * disks beyond it, disks made to another disk setting (a source since
 * changed), and any an earlier sweep failed to delete. Each delete is
 * conditional on the fingerprint listed, so a disk a create claims meanwhile
 * stays; the disks are made and waited for.
 */
export async function sweepPool(
  context: Omit<PoolContext, 'background'>,
  request: { readonly dryRun: boolean },
): Promise<{ pool: SweepReport['pool']; failed: SweepReport['failed'][number][] }> {
  const listed = await listPoolDisks(context);
  const plan = planPoolSweep(listed, { serverName: context.serverName, size: context.diskPool.size, specHash: poolSpecHash(context.disk) });
  const failed: SweepReport['failed'][number][] = [];
  const report = (made: number, retired: readonly { name: string; why: string }[]): SweepReport['pool'] => ({
    size: context.diskPool.size,
    free: plan.free,
    made,
    retired: [...retired],
  });
  if (request.dryRun) return { pool: report(plan.make, plan.retire), failed };
  const byName = new Map(listed.map((disk) => [disk.name, disk]));
  const [retired, made] = await Promise.all([
    Promise.all(
      plan.retire.map(async (entry) => {
        try {
          return (await retirePoolDisk(context, byName.get(entry.name)!)) ? [entry] : [];
        } catch (error) {
          failed.push({ kind: 'pool-disk', name: entry.name, error: describeErrorChain(error) });
          return [];
        }
      }),
    ),
    Promise.all(
      Array.from({ length: plan.make }, async () => {
        try {
          await makePoolDisk(context);
          return 1;
        } catch (error) {
          failed.push({ kind: 'pool-disk', name: '(new)', error: describeErrorChain(error) });
          return 0;
        }
      }),
    ),
  ]);
  return {
    pool: report(
      made.reduce((sum: number, one) => sum + one, 0),
      retired.flat(),
    ),
    failed,
  };
}
