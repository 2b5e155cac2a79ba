import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CallerIdentity } from '../../../shared/auth/identity.ts';
import type { FullContext } from '../../../shared/handlers/execution-context.ts';
import { planCreate, type CreateConfig, type CreatePlan, type CreateRequest } from '../../../shared/plans/create-plan.ts';
import { makeBackground } from '../../../shared/runtime/background.ts';
import { compileDeploymentTemplate } from '../../../shared/template/deployment-template.ts';
import { FakeClock } from './fake-clock.ts';
import { FakeCluster } from './fake-cluster.ts';
import { FakeDisks } from './fake-disks.ts';
import { FakeInstanceObjects } from './fake-instance-objects.ts';

const TEMPLATE_PATH = fileURLToPath(new URL('../../../templates/syncbased-deployment.json.hbs', import.meta.url));

/** The shipped JSON template, compiled. */
export const template = compileDeploymentTemplate(readFileSync(TEMPLATE_PATH, 'utf8'), { format: 'json', source: TEMPLATE_PATH });

export const config: CreateConfig = {
  serverName: 'syncbased',
  mountRoot: '/ns/allocated',
  version: 'v1',
  admins: ['root@example.com'],
  accessListFormat: '{email}',
  limits: { perUser: 1, global: 3 },
  disk: { sizeGb: 10, type: 'pd-standard' },
  lifetime: { defaultSeconds: 3600, maxSeconds: 86_400 },
  waitTimeoutMs: 60_000,
  queue: { leaseMs: 20_000, requestBoundMs: 220_000, pollMs: 1_000 },
  compute: { zone: 'us-central1-c' },
};

export const GRACE_MS = 900_000;

export const caller = (email = 'ada@example.com'): CallerIdentity => ({ email, subject: '1', kind: 'user' });

/** Counting bytes: every call gives the next value, so plans are reproducible. */
export function countingRandom(): (bytes: number) => Buffer {
  let next = 0;
  return (bytes) => Buffer.alloc(bytes, (next += 1));
}

/** Fakes of both adapters on one clock, and the context an executor takes. */
export function world(): {
  clock: FakeClock;
  cluster: FakeCluster;
  disks: FakeDisks;
  objects: FakeInstanceObjects;
  events: string[];
  random: (bytes: number) => Buffer;
  context: FullContext;
} {
  const clock = new FakeClock();
  const cluster = new FakeCluster(clock);
  const disks = new FakeDisks(clock);
  const objects = new FakeInstanceObjects();
  const events: string[] = [];
  const background = makeBackground();
  return {
    clock,
    cluster,
    disks,
    objects,
    events,
    random: countingRandom(),
    context: {
      serverName: config.serverName,
      cluster,
      objects,
      disks,
      clock,
      random: countingRandom(),
      timeouts: { deleteMs: 30_000, diskReleaseMs: 30_000 },
      report: (event) => void events.push(event),
      caller: caller('ada@example.com'),
      policy: { ...config, workspaceDomains: [] },
      lockMs: 60_000,
      graceMs: GRACE_MS,
      sweep: { graceMs: GRACE_MS, maxDestroys: 10 },
      disk: config.disk,
      diskPool: { size: 0 },
      background,
      lifetime: config.lifetime,
      restoreWindowMs: 0,
      keptPerUser: config.limits.perUser,
    },
  };
}

/** What is left in the fakes, by name. */
export function leftovers(w: { cluster: FakeCluster; disks: FakeDisks }): { deployments: string[]; leases: string[]; disks: string[] } {
  return {
    deployments: [...w.cluster.deployments.keys()].sort(),
    leases: [...w.cluster.leases.keys()].sort(),
    disks: [...w.disks.disks.keys()].sort(),
  };
}

export const NOTHING = { deployments: [], leases: [], disks: [] };

/** A create plan of `email`, on the world's clock and randomness, as the handler makes one: a test sets the limits, the request and the name. */
export function planOf(
  w: { readonly clock: FakeClock; readonly context: Pick<FullContext, 'random'> },
  input: {
    readonly email: string;
    readonly limits?: CreateConfig['limits'];
    readonly request?: Partial<CreateRequest>;
    readonly name?: string;
  },
): CreatePlan {
  return planCreate({
    config: { ...config, ...(input.limits ? { limits: input.limits } : {}) },
    template,
    caller: caller(input.email),
    request: { wait: false, waitMs: config.waitTimeoutMs, ...input.request },
    nowMs: w.clock.now(),
    random: w.context.random,
    ...(input.name === undefined ? {} : { name: input.name }),
  });
}
