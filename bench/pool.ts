// Puts the warm pool in the state a measure needs: full, or empty. Both wait
// first for the refills that earlier creates left running.
import { listPoolDisks, makePoolDisk } from '../shared/executors/disk-pool.ts';
import { executionContext, SWEEPER } from '../shared/handlers/execution-context.ts';
import { isFreePoolDisk, poolSpecHash } from '../shared/plans/disk-pool.ts';
import type { CreateRuntime } from '../shared/runtime/runtimes.ts';

async function poolContext(runtime: CreateRuntime) {
  await runtime.background.settled();
  const context = await executionContext(runtime, { caller: SWEEPER, report: () => undefined });
  const free = (await listPoolDisks(context)).filter((disk) =>
    isFreePoolDisk(disk, { serverName: context.serverName, specHash: poolSpecHash(context.disk) }),
  );
  return { context, free };
}

/** Makes pool disks until the pool holds its size of free ones. */
export async function fillPool(runtime: CreateRuntime): Promise<void> {
  const { context, free } = await poolContext(runtime);
  await Promise.all(Array.from({ length: Math.max(0, context.diskPool.size - free.length) }, () => makePoolDisk(context)));
}

/** Deletes every free pool disk: the next create finds the pool empty. */
export async function emptyPool(runtime: CreateRuntime): Promise<void> {
  const { context, free } = await poolContext(runtime);
  await Promise.all(free.map((disk) => context.disks.deleteDisk(disk.name)));
}
