import type { CreateRuntime } from '../shared/runtime/runtimes.ts';
import type { ClusterClient } from '../shared/kube/cluster.ts';
import { instanceSelector } from '../shared/instances/metadata.ts';
import { ownerHashOf } from '../shared/instances/naming.ts';
import { collaboratorsPatch, sharedSelector } from '../shared/instances/sharing.ts';
import { idleOther, renderDirect, type Owner } from './direct.ts';
import { fmt, percentile, ratio, timeMs } from './stats.ts';

/**
 * List's cost of sharing: a caller with 3 instances of their own and 3 shared
 * with them, against one with 3 of their own and none shared (`lister`, made
 * by the caller of this), in the same rounds; and the two label-selected
 * lists list now sends at once, against the owner's alone.
 */
export async function measureListSharing(options: {
  runtime: CreateRuntime;
  cluster: ClusterClient;
  listUrl: string;
  headersFor: (email: string) => Record<string, string>;
  ownerFor: (email: string) => Owner;
  /** Three instances of other owners, to share with the caller. */
  othersToShare: readonly string[];
  rounds: number;
  report: (what: string, value: string, baseline: string, vs: string) => void;
}): Promise<void> {
  const { cluster, runtime } = options;
  const friend = 'friend@example.com';
  const friends: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const { name, deployment } = renderDirect(runtime, options.ownerFor(friend));
    await cluster.createDeployment(idleOther(deployment));
    friends.push(name);
  }
  for (const name of options.othersToShare) {
    const deployment = await cluster.readDeployment(name);
    if (deployment) await cluster.patchDeployment(name, { metadata: collaboratorsPatch(deployment, [friend]) });
  }
  const listOf = async (email: string, expected: number): Promise<void> => {
    const body = (await (await fetch(options.listUrl, { headers: options.headersFor(email) })).json()) as { instances: unknown[] };
    if (body.instances.length !== expected) throw new Error(`list for ${email} gave ${body.instances.length} instances, not ${expected}`);
  };
  const own = instanceSelector('syncbased', ownerHashOf(friend));
  const shared = sharedSelector('syncbased', friend);
  const withSharing: number[] = [];
  const without: number[] = [];
  const bothRaw: number[] = [];
  const ownRaw: number[] = [];
  for (let round = 0; round < options.rounds * 2; round += 1) {
    withSharing.push(await timeMs(() => listOf(friend, 6)));
    without.push(await timeMs(() => listOf('lister@example.com', 3)));
    bothRaw.push(
      await timeMs(() =>
        Promise.all([cluster.listDeployments({ labelSelector: own }), cluster.listDeployments({ labelSelector: shared })]),
      ),
    );
    ownRaw.push(await timeMs(() => cluster.listDeployments({ labelSelector: own })));
  }
  for (const p of [50, 95])
    options.report(
      `list p${p}: 3 own + 3 shared with the caller (vs 3 own, none shared)`,
      fmt(percentile(withSharing, p)),
      fmt(percentile(without, p)),
      ratio(percentile(withSharing, p), percentile(without, p)),
    );
  options.report(
    "  raw: the owner's and the shared label-selected lists at once (vs the owner's alone)",
    fmt(percentile(bothRaw, 50)),
    fmt(percentile(ownRaw, 50)),
    ratio(percentile(bothRaw, 50), percentile(ownRaw, 50)),
  );
  // Unshared again, and the friend's own gone, so that the later measures see the allocator as before.
  for (const name of options.othersToShare) {
    const deployment = await cluster.readDeployment(name);
    if (deployment) await cluster.patchDeployment(name, { metadata: collaboratorsPatch(deployment, []) });
  }
  await Promise.all(friends.map((name) => cluster.deleteDeployment(name)));
}
