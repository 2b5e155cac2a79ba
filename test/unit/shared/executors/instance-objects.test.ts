import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../../shared/errors.ts';
import { executeCreate } from '../../../../shared/executors/create.ts';
import { destroyInstance } from '../../../../shared/executors/destroy.ts';
import { extendInstance } from '../../../../shared/executors/extend.ts';
import { resetInstance, suspendInstance } from '../../../../shared/executors/lifecycle.ts';
import { listInstances } from '../../../../shared/executors/list.ts';
import { shareInstance } from '../../../../shared/executors/share.ts';
import { transferInstance } from '../../../../shared/executors/transfer.ts';
import { ownerHashOf } from '../../../../shared/instances/naming.ts';
import { restoreInstance } from '../../../../shared/executors/restore.ts';
import { planCreate } from '../../../../shared/plans/create-plan.ts';
import { planRestore } from '../../../../shared/plans/restore.ts';
import { compileDeploymentTemplate } from '../../../../shared/template/deployment-template.ts';
import { accessAs } from '../../fakes/access.ts';
import { caller, config, leftovers, NOTHING, template as syncbased, world } from '../../fakes/world.ts';

const PATH = 'templates/postgres.yaml.hbs';
const postgres = compileDeploymentTemplate(readFileSync(PATH, 'utf8'), { format: 'yaml', source: PATH });

type World = ReturnType<typeof world>;

const plan = (w: World, wait = true, email = 'ada@example.com') =>
  planCreate({
    config,
    template: postgres,
    caller: caller(email),
    request: { wait, waitMs: config.waitTimeoutMs, parameters: { version: '17' } },
    nowMs: w.clock.now(),
    random: w.random,
  });

const ENDPOINT = (name: string) => ({
  service: name,
  name: 'postgres',
  protocol: 'TCP',
  host: `${name}.test.svc.cluster.local`,
  port: 5432,
});

describe("an instance's Services and ConfigMaps", () => {
  it("are made after the Deployment, with Allocator's labels, owned by the instance's record; the answer has the endpoints", async () => {
    const w = world();
    const p = plan(w);
    const instance = await executeCreate(w.context, p);
    expect(w.objects.names()).toEqual([`ConfigMap/${p.name}-config`, `Service/${p.name}`]);
    const uid = w.cluster.records.get(p.name)?.metadata.uid;
    for (const object of w.objects.objects.values()) {
      expect(object.metadata.labels).toMatchObject({
        'allocator.dev/allocator': 'syncbased',
        'allocator.dev/instance': p.name,
        'allocator.dev/owner-hash': expect.stringMatching(/^[0-9a-f]{40}$/) as string,
      });
      expect(object.metadata.ownerReferences).toEqual([{ apiVersion: 'allocator.dev/v1', kind: 'Instance', name: p.name, uid }]);
    }
    expect(w.objects.faults.calls.indexOf('create')).toBeGreaterThan(-1);
    expect(w.cluster.faults.calls.indexOf('createDeployment')).toBeGreaterThan(-1);
    expect(instance.endpoints).toEqual([ENDPOINT(p.name)]);
    // Without the wait, the answer's endpoints come from the plan, with no read.
    const quick = world();
    expect((await executeCreate(quick.context, plan(quick, false))).endpoints).toEqual([ENDPOINT(plan(world(), false).name)]);
    expect(quick.objects.lists).toEqual([]);
  });

  it("are read for a waited create's answer only when its plan made a Service", async () => {
    const withServices = world();
    const made = plan(withServices);
    await executeCreate(withServices.context, made);
    expect(withServices.objects.lists).toEqual([`Service:allocator.dev/allocator=syncbased,allocator.dev/instance=${made.name}`]);
    const without = world();
    const bare = planCreate({
      config,
      template: syncbased,
      caller: caller('ada@example.com'),
      request: { wait: true, waitMs: config.waitTimeoutMs },
      nowMs: without.clock.now(),
      random: without.random,
    });
    expect((await executeCreate(without.context, bare)).endpoints).toEqual([]);
    expect(without.objects.lists).toEqual([]);
  });

  it('are undone with everything else when one cannot be made', async () => {
    const w = world();
    w.objects.faults.inject({ method: 'create', nth: 2, when: 'before', error: () => new UnavailableError('create ConfigMap: reset') });
    await expect(executeCreate(w.context, plan(w))).rejects.toThrow(/reset/);
    expect(leftovers(w)).toEqual(NOTHING);
    expect(w.objects.names()).toEqual([]);
    expect(w.cluster.records.size).toBe(0);
  });

  it('stay through suspend, reset and extend, and go with a destroy', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w));
    const context = { ...w.context, template: postgres };
    await suspendInstance(context, { name });
    await resetInstance(context, { name, wait: false, waitMs: 0 });
    expect((await extendInstance(context, { name, lifetimeSeconds: 600 })).endpoints).toEqual([ENDPOINT(name)]);
    expect(w.objects.names()).toEqual([`ConfigMap/${name}-config`, `Service/${name}`]);
    await destroyInstance(w.context, { name });
    expect(w.objects.names()).toEqual([]);
  });

  it('go with a destroy that keeps the record for a restore, and come back, owned by that record, with the restore', async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w));
    const context = { ...w.context, restoreWindowMs: 86_400_000 };
    const result = await destroyInstance(context, { name });
    expect(result.restorableUntil).toBeDefined();
    expect(w.cluster.records.get(name)?.status.phase).toBe('destroyed');
    expect(w.objects.names()).toEqual([]);
    const restored = await restoreInstance(context, {
      name,
      plan: (record) =>
        planRestore({
          config,
          template: postgres,
          record,
          caller: caller(),
          request: { name, wait: true, waitMs: 60_000 },
          nowMs: w.clock.now(),
          random: w.random,
        }),
    });
    expect(restored.endpoints).toEqual([ENDPOINT(name)]);
    expect(w.objects.names()).toEqual([`ConfigMap/${name}-config`, `Service/${name}`]);
    const uid = w.cluster.records.get(name)?.metadata.uid;
    expect(w.objects.objects.get(`Service/${name}`)?.metadata.ownerReferences?.[0]?.uid).toBe(uid);
  });

  it("are read for a whole list in one label-selected call beside the Deployments', whatever the number of instances", async () => {
    const w = world();
    const context = { ...w.context, caller: caller() };
    for (const email of ['ada@example.com', 'bea@example.com', 'cy@example.com']) await executeCreate(context, plan(w, false, email));
    w.objects.lists.length = 0;
    const listed = await listInstances({ ...context, caller: caller('root@example.com') }, { all: true });
    expect(listed).toHaveLength(3);
    expect(w.objects.lists).toEqual(['Service:allocator.dev/allocator=syncbased']);
    for (const instance of listed) expect(instance.endpoints).toEqual([ENDPOINT(instance.name)]);
    // A person's own: by the owner's label, the same list whether they have instances or not.
    w.objects.lists.length = 0;
    const [own] = await listInstances({ ...context, caller: caller('bea@example.com') }, { all: false });
    expect(own?.endpoints).toEqual([ENDPOINT(own?.name ?? '')]);
    expect(await listInstances({ ...context, caller: caller('nobody@example.com') }, { all: false })).toEqual([]);
    expect(w.objects.lists).toEqual([
      `Service:allocator.dev/allocator=syncbased,allocator.dev/owner-hash=${ownerHashOf('bea@example.com')}`,
      `Service:allocator.dev/allocator=syncbased,allocator.dev/owner-hash=${ownerHashOf('nobody@example.com')}`,
    ]);
  });

  it("follow a transfer to the new owner's label, so the new owner's list has their endpoints; one shared is read by name", async () => {
    const w = world();
    const { name } = await executeCreate(w.context, plan(w, false, 'ada@example.com'));
    await transferInstance({ ...accessAs(w, caller('ada@example.com')), template: postgres }, { name, to: 'bea@example.com' });
    for (const object of w.objects.objects.values())
      expect(object.metadata.labels?.['allocator.dev/owner-hash']).toBe(ownerHashOf('bea@example.com'));
    const [listed] = await listInstances({ ...w.context, caller: caller('bea@example.com') }, { all: false });
    expect(listed?.endpoints).toEqual([ENDPOINT(name)]);

    await shareInstance({ ...accessAs(w, caller('bea@example.com')), template: postgres }, { name, emails: ['cy@example.com'] });
    w.objects.lists.length = 0;
    const [shared] = await listInstances({ ...w.context, caller: caller('cy@example.com') }, { all: false });
    expect(shared).toMatchObject({ sharedWithMe: true, endpoints: [ENDPOINT(name)] });
    expect(w.objects.lists).toEqual([
      `Service:allocator.dev/allocator=syncbased,allocator.dev/owner-hash=${ownerHashOf('cy@example.com')}`,
      `Service:allocator.dev/allocator=syncbased,allocator.dev/instance=${name}`,
    ]);
  });
});
