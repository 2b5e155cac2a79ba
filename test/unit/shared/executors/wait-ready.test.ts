import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ProgressStep } from '../../../../shared/api/progress.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { waitUntilReady } from '../../../../shared/executors/wait-ready.ts';
import type { ClusterClient } from '../../../../shared/kube/cluster.ts';
import { planOf, world } from '../../fakes/world.ts';

/** One pod of `name`, made now, at `step`: scheduled only, or its container running. */
function pod(name: string, createdAt: number, step: 'scheduled' | 'started'): V1Pod {
  return {
    metadata: { name: `${name}-pod`, uid: `${name}-pod`, creationTimestamp: new Date(createdAt) },
    spec: { containers: [{ name: 'server', image: 'server' }], nodeName: 'kwok-node-0' },
    status: {
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      ...(step === 'started'
        ? {
            containerStatuses: [
              { name: 'server', image: 'server', imageID: 'server@sha256:0', ready: true, restartCount: 0, state: { running: {} } },
            ],
          }
        : {}),
    },
  };
}

describe('waitUntilReady with a progress sink', () => {
  it("tells each pod step as the pods' watch reports it, in order, then ready", async () => {
    const w = world();
    const { name } = await executeCreate(w.context, planOf(w, { email: 'ada@example.com' }));
    w.cluster.readyAfterReads = 5;
    const since = w.clock.now();
    // The pods come only through the watch: every list of them answers none.
    const cluster = new Proxy(w.cluster, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (property !== 'watchPods') return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        return async (options: Parameters<ClusterClient['watchPods']>[0]) => {
          options.onEvent({ type: 'ADDED', pod: pod(name, since, 'scheduled') });
          options.onEvent({ type: 'MODIFIED', pod: pod(name, since, 'started') });
          await target.watchPods(options);
        };
      },
    });
    const told: { step: ProgressStep; at: number }[] = [];
    const progress = (step: ProgressStep) => void told.push({ step, at: w.clock.now() });
    const ready = await waitUntilReady({ ...w.context, cluster, progress }, { name, timeoutMs: 60_000 });
    expect(ready.state).toBe('ready');
    expect(told.map(({ step }) => step)).toEqual(['scheduled', 'pulled', 'started', 'ready']);
    // Told as the watch reported them, before the Deployment was available: not filled in at ready.
    const readyAt = told.at(-1)!.at;
    expect(told.slice(0, 3).every(({ at }) => at < readyAt)).toBe(true);
  });

  it('tells the steps its pods were not seen to reach once the instance is ready, since ready implies them', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, planOf(w, { email: 'ada@example.com' }));
    w.cluster.readyAfterReads = 2;
    const steps: ProgressStep[] = [];
    await waitUntilReady({ ...w.context, progress: (step) => void steps.push(step) }, { name, timeoutMs: 60_000 });
    expect(steps).toEqual(['scheduled', 'pulled', 'started', 'ready']);
  });

  it('answers ready without waiting on its pods: a list of them that never answers holds up nothing', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, planOf(w, { email: 'ada@example.com' }));
    w.cluster.readyAfterReads = 2;
    const cluster = new Proxy(w.cluster, {
      get(target, property) {
        if (property === 'listPods') return () => new Promise(() => undefined);
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const steps: ProgressStep[] = [];
    const ready = await waitUntilReady({ ...w.context, cluster, progress: (step) => void steps.push(step) }, { name, timeoutMs: 60_000 });
    expect(ready.state).toBe('ready');
    expect(steps).toEqual(['scheduled', 'pulled', 'started', 'ready']);
  });
});
