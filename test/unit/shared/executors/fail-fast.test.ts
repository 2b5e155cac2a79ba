import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { resumeInstance, suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { LABELS } from '../../../../shared/instances/metadata.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { caller, config, leftovers, NOTHING, template, world } from '../../fakes/world.ts';

type World = ReturnType<typeof world>;

const NOT_FOUND =
  'rpc error: code = NotFound desc = failed to pull and unpack image "x:v9": failed to resolve reference "x:v9": x:v9: not found';
const TOO_MANY =
  'rpc error: code = Unknown desc = failed to resolve reference "x:v9": unexpected status from HEAD request: 429 Too Many Requests';

/** The one pod of instance `name`, its container waiting for `reason`, as the kubelet would report it. */
const waitingPod = (name: string, reason: string, message: string): V1Pod => ({
  metadata: { name: `${name}-abc`, labels: { [LABELS.allocator]: config.serverName, [LABELS.instance]: name } },
  status: {
    startTime: new Date(),
    containerStatuses: [
      { name: 'syncbased', image: 'x:v9', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } },
    ],
  },
});

const plan = (w: World, waitMs: number) =>
  planCreate({ config, template, caller: caller(), request: { wait: true, waitMs }, nowMs: w.clock.now(), random: w.random });

describe('a wait that cannot succeed stops early', () => {
  it.each([
    ['ErrImagePull', NOT_FOUND],
    ['InvalidImageName', 'couldn\'t parse image name "Bad:Image": invalid reference format'],
    ['CreateContainerConfigError', 'secret "db-password" not found'],
  ])('create: %s fails within seconds with a 400 naming it, and is undone', async (reason, message) => {
    const w = world();
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    const p = plan(w, 240_000);
    w.cluster.pods = [waitingPod(p.name, reason, message)];
    const started = w.clock.now();
    const error = await executeCreate(w.context, p).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      status: 400,
      statusName: 'FAILED_PRECONDITION',
      message: `instance ${p.name} cannot start: ${reason}: syncbased: ${message}; it was removed`,
    });
    expect(w.clock.now() - started).toBeLessThan(10_000); // the fake clock's time: well short of the 240 s wait
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it.each([
    ['ImagePullBackOff', 'Back-off pulling image "x:v9"'],
    ['ErrImagePull', TOO_MANY],
    ['CrashLoopBackOff', 'back-off 5m0s restarting failed container=syncbased'],
  ])('create: a transient %s waits out the whole wait and ends in the 504', async (reason, message) => {
    const w = world();
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    const p = plan(w, 60_000);
    w.cluster.pods = [waitingPod(p.name, reason, message)];
    const started = w.clock.now();
    await expect(executeCreate(w.context, p)).rejects.toMatchObject({
      status: 504,
      message: `instance ${p.name} was not ready within 60 s: ${reason}: syncbased: ${message}; it was removed`,
    });
    expect(w.clock.now() - started).toBeGreaterThanOrEqual(60_000);
    expect(leftovers(w)).toEqual(NOTHING);
  });

  it('resume: a permanent problem ends the wait with the 400, leaving the instance as a timed-out wait would', async () => {
    const w = world();
    const name = (await executeCreate(w.context, plan(w, 60_000))).name;
    await suspendInstance(w.context, { name });
    w.cluster.readyAfterReads = Number.POSITIVE_INFINITY;
    w.cluster.pods = [waitingPod(name, 'ErrImagePull', NOT_FOUND)];
    const before = leftovers(w);
    await expect(resumeInstance(w.context, { name, wait: true, waitMs: 240_000 })).rejects.toMatchObject({
      status: 400,
      message: `instance ${name} cannot start: ErrImagePull: syncbased: ${NOT_FOUND}`,
    });
    expect(leftovers(w)).toEqual(before);
  });
});
