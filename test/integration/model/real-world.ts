/**
 * Issue 29 against the real local stack: histories of every operation, sent
 * over HTTP to two sets of function processes (create, destroy and list each)
 * that serve one namespace of the local control plane, with the disks
 * emulator's faults injected at random and pairs of operations sent at once.
 * After each step the safety invariants are read from the API server and the
 * emulator, and each person's list is held to them; after the history, sweeps run in this process on a clock moved
 * past the grace period, every lock and every lifetime and restore window
 * settle what failures left and then leave nothing but the pool.
 *
 * Used by real-histories.test.ts (a few fixed seeds) and bench/histories.ts
 * (the long run). Imports nothing from vitest, so that a plain script can use it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Deployment,
  type V1Lease,
} from '@kubernetes/client-node';
import fc from 'fast-check';
import { OPERATIONS, operationUrl, type OperationId } from '../../../shared/api/operations.ts';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { runSweep } from '../../../shared/executors/run-sweep.ts';
import { executionContext, SWEEPER } from '../../../shared/handlers/execution-context.ts';
import { ANNOTATIONS, DISK_LABELS, LABELS, SLOT_LABEL } from '../../../shared/instances/metadata.ts';
import { ownerHashOf } from '../../../shared/instances/naming.ts';
import { collaboratorsOf } from '../../../shared/instances/sharing.ts';
import type { InstanceRecord } from '../../../shared/model/record.ts';
import { RECORD_RESOURCE } from '../../../shared/model/record.ts';
import { lockDurationMs } from '../../../shared/plans/lifecycle.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import type { CreateRuntime } from '../../../shared/runtime/runtimes.ts';
import { startDisksEmulator, type DisksEmulator, type FaultSpec as EmulatorFault } from '../../harness/disks-emulator.ts';
import { startFunctionProcess, type FunctionProcess } from '../../harness/function-process.ts';
import { makeAnswerChecker, type Answer } from '../../harness/openapi-check.ts';
import { startTokenIssuer, type TokenIssuer } from '../../harness/token-issuer.ts';
import { allocatorEnvFor } from '../../../bench/serve.ts';

/** Four users and an admin. */
export const USERS = ['ada@example.com', 'bea@example.com', 'cy@example.com', 'dan@example.com'] as const;
export const ADMIN = 'root@example.com';
export const EVERYONE: readonly string[] = [...USERS, ADMIN];
/** Tight limits, so that histories reach them. */
export const LIMITS = { perUser: 2, global: 5 } as const;
export const POOL_SIZE = Number(process.env.HISTORIES_POOL_SIZE ?? 1);
export const RESTORE_WINDOW_S = 3_600;
export const MAX_LIFETIME_S = 86_400;

// ---------------------------------------------------------------------------------------------------------------------
// The stack: one namespace, the emulator, the issuer, two sets of function processes, and a runtime here for the sweeps.

export interface RealStack {
  readonly namespace: string;
  readonly env: Record<string, string>;
  readonly emulator: DisksEmulator;
  readonly issuer: TokenIssuer;
  /** Each set's three function URLs. */
  readonly sets: readonly Record<'create' | 'destroy' | 'list', string>[];
  readonly runtime: CreateRuntime;
  readonly apps: AppsV1Api;
  readonly leases: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  readonly check: (answer: Answer) => string | undefined;
  tokenFor(email: string): string;
  stop(): Promise<void>;
}

export async function startRealStack(options: { kubeconfigPath: string; namespace: string; sets?: number }): Promise<RealStack> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { namespace } = options;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (let i = 0; ; i += 1) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace });
      break;
    } catch (error) {
      if (i > 300) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const issuer = await startTokenIssuer();
  const emulator = await startDisksEmulator();
  const workDir = mkdtempSync(join(tmpdir(), 'allocator-histories-'));
  const env: Record<string, string> = {
    ...allocatorEnvFor({ kubeconfigPath: options.kubeconfigPath, namespace, emulatorUrl: emulator.url, certsUrl: issuer.certsUrl }),
    ALLOCATOR_ADMINS: ADMIN,
    ALLOCATOR_MAX_INSTANCES_PER_USER: String(LIMITS.perUser),
    ALLOCATOR_MAX_INSTANCES: String(LIMITS.global),
    ALLOCATOR_RESTORE_WINDOW_SECONDS: String(RESTORE_WINDOW_S),
    ALLOCATOR_DISK_POOL_SIZE: String(POOL_SIZE),
    ALLOCATOR_DEFAULT_LIFETIME_SECONDS: '3600',
    ALLOCATOR_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_S),
    ALLOCATOR_WAIT_TIMEOUT_SECONDS: '20',
    ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS: '10',
    ALLOCATOR_QUEUE_TICKET_SECONDS: '30',
    // A re-sent queued create waits in line up to this less the wait timeout and 20 s (50 s here), inside the
    // 120 s each request of a history is given; at the deployed 300 s it would wait 260 s, and count as no answer.
    ALLOCATOR_CREATE_TIMEOUT_SECONDS: '90',
  };
  const processes: FunctionProcess[] = [];
  const sets: Record<'create' | 'destroy' | 'list', string>[] = [];
  try {
    for (let i = 0; i < (options.sets ?? 2); i += 1) {
      const started = await Promise.all(
        (['create', 'destroy', 'list'] as const).map((name) =>
          startFunctionProcess({ name, env, logFile: join(workDir, `${name}-${i}.log`) }),
        ),
      );
      processes.push(...started);
      sets.push({ create: started[0]!.url, destroy: started[1]!.url, list: started[2]!.url });
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([issuer.stop(), emulator.stop()]);
    throw error;
  }
  const description = await fetch(`${sets[0]!.list}/openapi.json`);
  const check = makeAnswerChecker((await description.json()) as Record<string, unknown>);
  const runtime = makeCreateRuntime(loadConfig(env));
  return {
    namespace,
    env,
    emulator,
    issuer,
    sets,
    runtime,
    apps: kubeConfig.makeApiClient(AppsV1Api),
    leases: kubeConfig.makeApiClient(CoordinationV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    check,
    tokenFor: (email) => issuer.issueIdToken({ email, audience: env.ALLOCATOR_AUDIENCES! }),
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await runtime.background.settled();
      await runtime.disks().close();
      await Promise.all([issuer.stop(), emulator.stop()]);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Histories as plain data.

/** `who` of an operation on an instance that names whoever owns it now. */
export const OWNER = -1;

export type Operation = { readonly via: number } & (
  | {
      readonly kind: 'create';
      readonly who: number;
      /** Which of the caller's keys (0-2), if any: the same key again is a re-sent create. */
      readonly key?: number;
      readonly queue?: boolean;
      readonly lifetime?: number;
      readonly wait?: boolean;
    }
  | { readonly kind: 'extend'; readonly who: number; readonly target: number; readonly lifetime?: number }
  | {
      readonly kind: 'suspend' | 'resume' | 'reset' | 'restart' | 'restore';
      readonly who: number;
      readonly target: number;
      readonly wait?: boolean;
    }
  | { readonly kind: 'share' | 'unshare'; readonly who: number; readonly target: number; readonly with: number }
  | { readonly kind: 'transfer'; readonly who: number; readonly target: number; readonly to: number }
  | { readonly kind: 'destroy'; readonly who: number; readonly target: number; readonly now?: boolean }
  | { readonly kind: 'list'; readonly who: number }
  | { readonly kind: 'sweep' }
);

/** One step: one operation, or two sent at once; and the emulator's faults armed before it. */
export interface Step {
  readonly ops: readonly Operation[];
  readonly faults: readonly EmulatorFault[];
}

const who = fc.nat({ max: 4 });
const actor = fc.oneof({ weight: 3, arbitrary: fc.constant(OWNER) }, { weight: 2, arbitrary: who });
const target = fc.nat({ max: 7 });
const user = fc.nat({ max: 3 });
const via = fc.nat({ max: 1 });
/** Mostly no wait, to keep histories fast; sometimes a wait, whose 504 is documented. */
const wait = fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
const lifetime = fc.option(fc.constantFrom(60, 3600, 86_400), { nil: undefined });

const create = fc.record(
  {
    via,
    kind: fc.constant('create' as const),
    who,
    key: fc.nat({ max: 2 }),
    queue: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    lifetime,
    wait,
  },
  { requiredKeys: ['via', 'kind', 'who'] },
);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: create },
  {
    weight: 1,
    arbitrary: fc.record(
      { via, kind: fc.constant('extend' as const), who: actor, target, lifetime },
      { requiredKeys: ['via', 'kind', 'who', 'target'] },
    ),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      via,
      kind: fc.constantFrom('suspend' as const, 'resume' as const, 'reset' as const, 'restart' as const),
      who: actor,
      target,
      wait,
    }),
  },
  { weight: 2, arbitrary: fc.record({ via, kind: fc.constantFrom('share' as const, 'unshare' as const), who: actor, target, with: user }) },
  { weight: 2, arbitrary: fc.record({ via, kind: fc.constant('transfer' as const), who: actor, target, to: user }) },
  { weight: 3, arbitrary: fc.record({ via, kind: fc.constant('destroy' as const), who: actor, target, now: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ via, kind: fc.constant('restore' as const), who: actor, target, wait }) },
  { weight: 1, arbitrary: fc.record({ via, kind: fc.constant('list' as const), who }) },
  { weight: 1, arbitrary: fc.record({ via, kind: fc.constant('sweep' as const) }) },
);

const emulatorFault: fc.Arbitrary<EmulatorFault> = fc.oneof(
  fc.record({
    method: fc.constantFrom('disks.insert', 'disks.get', 'disks.delete', 'disks.setLabels', 'disks.list', 'zoneOperations.wait' as const),
    kind: fc.constant('http' as const),
    status: fc.constantFrom(503, 500, 429),
    count: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({
    method: fc.constantFrom('disks.insert', 'disks.delete', 'disks.setLabels' as const),
    kind: fc.constant('operation' as const),
    count: fc.constant(1),
  }),
  fc.record({
    method: fc.constantFrom('disks.insert', 'disks.delete', 'disks.setLabels', 'disks.get' as const),
    kind: fc.constant('drop' as const),
    count: fc.constant(1),
  }),
);
const faults = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as EmulatorFault[]) },
  { weight: 1, arbitrary: fc.array(emulatorFault, { minLength: 1, maxLength: 2 }) },
);

export const step: fc.Arbitrary<Step> = fc.record({
  ops: fc.oneof({ weight: 1, arbitrary: fc.tuple(operation) }, { weight: 1, arbitrary: fc.tuple(operation, operation) }),
  faults,
});
/** A history opens with a few creates, so that the operations after them have instances to act on. */
const opening: fc.Arbitrary<Step[]> = fc.array(fc.record({ ops: fc.tuple(create, create), faults: fc.constant([] as EmulatorFault[]) }), {
  minLength: 1,
  maxLength: 2,
});
export const history = (maxSteps: number): fc.Arbitrary<Step[]> =>
  fc.tuple(opening, fc.array(step, { minLength: 1, maxLength: maxSteps })).map(([first, rest]) => [...first, ...rest]);

// ---------------------------------------------------------------------------------------------------------------------
// Running one.

/** One broken invariant or an unexpected answer, in words that name the objects. */
export class Violation extends Error {
  override readonly name = 'Violation';
}
const fail = (message: string): never => {
  throw new Violation(message);
};

/** The statuses a refusal may have: the API's 4xx, and the 503 and 504 of an adapter that failed or a wait that ran out. */
const REFUSALS = new Set([400, 403, 404, 409, 429, 503, 504]);

interface Model {
  readonly names: string[];
  /** Answers that /openapi.json does not describe (an undeclared status, a body off its schema). */
  readonly contract: string[];
}

export interface HistoryReport {
  readonly outcomes: string[];
  readonly contract: string[];
}

export function describeOp(op: Operation): string {
  const { kind, ...rest } = op;
  return `${kind}(${Object.entries(rest)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(', ')})`;
}
export function describeStep(s: Step): string {
  const ops = s.ops.map(describeOp).join(' || ');
  return s.faults.length === 0 ? ops : `${ops} with ${JSON.stringify(s.faults)}`;
}

const whoOf = (index: number): string => EVERYONE[index % EVERYONE.length]!;
const userOf = (index: number): string => USERS[index % USERS.length]!;
const targetOf = (model: Model, index: number): string =>
  model.names.length === 0 ? 'syncbased-00000000' : model.names[index % model.names.length]!;

async function ownerNow(stack: RealStack, name: string): Promise<string | undefined> {
  try {
    const deployment = await stack.apps.readNamespacedDeployment({ name, namespace: stack.namespace });
    const owner = deployment.metadata?.annotations?.[ANNOTATIONS.owner];
    if (owner) return owner;
  } catch {
    // none: its record's owner, if any
  }
  try {
    const record = (await stack.custom.getNamespacedCustomObject({ ...recordApi(stack), name })) as InstanceRecord;
    return record.spec.owner.email;
  } catch {
    return undefined;
  }
}

const recordApi = (stack: RealStack) => ({
  group: RECORD_RESOURCE.group,
  version: RECORD_RESOURCE.version,
  plural: RECORD_RESOURCE.plural,
  namespace: stack.namespace,
});

/** Sends one operation, as the typed client would, to the set `via` names; answers its outcome, and throws a Violation for a 500 or an answer the description does not allow. */
async function perform(stack: RealStack, model: Model, op: Operation): Promise<string> {
  const set = stack.sets[op.via % stack.sets.length]!;
  let id: OperationId;
  let caller: string;
  let body: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  const name = 'target' in op ? targetOf(model, op.target) : '';
  const actorOf = async (index: number): Promise<string> => (index === OWNER ? ((await ownerNow(stack, name)) ?? whoOf(0)) : whoOf(index));
  switch (op.kind) {
    case 'create':
      id = 'create';
      caller = whoOf(op.who);
      body = {
        wait: op.wait === true,
        ...(op.lifetime === undefined ? {} : { lifetimeSeconds: op.lifetime }),
        ...(op.queue ? { queue: true } : {}),
      };
      // A queued create needs a key; a keyed one again is a re-sent create.
      if (op.key !== undefined || op.queue) headers['idempotency-key'] = `${caller}-key-${op.key ?? 0}`;
      break;
    case 'extend':
      id = 'extend';
      caller = await actorOf(op.who);
      body = { name, ...(op.lifetime === undefined ? {} : { lifetimeSeconds: op.lifetime }) };
      break;
    case 'suspend':
      id = 'suspend';
      caller = await actorOf(op.who);
      body = { name };
      break;
    case 'resume':
    case 'reset':
    case 'restart':
    case 'restore':
      id = op.kind;
      caller = await actorOf(op.who);
      body = { name, wait: op.wait === true, ...(op.wait ? { waitTimeoutSeconds: 10 } : {}) };
      break;
    case 'share':
    case 'unshare':
      id = op.kind;
      caller = await actorOf(op.who);
      body = { name, emails: [userOf(op.with)] };
      break;
    case 'transfer':
      id = 'transfer';
      caller = await actorOf(op.who);
      body = { name, to: userOf(op.to) };
      break;
    case 'destroy':
      id = 'destroy';
      caller = await actorOf(op.who);
      body = { name, ...(op.now ? { now: true } : {}) };
      break;
    case 'list':
      id = 'list';
      caller = whoOf(op.who);
      break;
    case 'sweep':
      id = 'sweep';
      caller = ADMIN;
      body = { dryRun: false };
      break;
  }
  const method = OPERATIONS[id].methods[0];
  const token = stack.tokenFor(caller);
  let response: Response;
  try {
    response = await fetch(operationUrl(set, id), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-serverless-authorization': `Bearer ${token}`,
        ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(method === 'GET' ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    return fail(`${describeOp(op)} by ${caller}: no answer (${String(error)})`);
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = text === '' ? undefined : JSON.parse(text);
  } catch {
    fail(`${describeOp(op)} by ${caller} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (response.status >= 500 && !REFUSALS.has(response.status))
    fail(`${describeOp(op)} by ${caller} answered ${response.status}: ${text.slice(0, 400)}`);
  const problem = stack.check({ operation: id, method, status: response.status, body: answer });
  if (problem) {
    // An answer outside the description: recorded, and the history goes on (its invariants are what it checks).
    model.contract.push(`${describeOp(op)} by ${caller}: ${problem}`);
    return `${response.status}!`;
  }
  if (!response.ok && !REFUSALS.has(response.status))
    fail(`${describeOp(op)} by ${caller} answered ${response.status}, not a documented refusal: ${text.slice(0, 300)}`);
  if (response.ok && (op.kind === 'create' || op.kind === 'restore')) {
    const made = (answer as { name?: string }).name;
    if (made && !model.names.includes(made)) model.names.push(made);
  }
  if (op.kind === 'sweep' && response.ok) {
    const report = answer as { failed: { kind: string; name: string; error: string }[] };
    const crashed = report.failed.find((entry) => /^(TypeError|RangeError|ReferenceError|SyntaxError|Error):/.test(entry.error));
    if (crashed) fail(`the sweep's ${crashed.kind} of ${crashed.name} crashed: ${crashed.error}`);
  }
  return response.ok ? 'ok' : String(response.status);
}

// ---------------------------------------------------------------------------------------------------------------------
// What the real stack holds, and the invariants over it.

interface Snapshot {
  readonly deployments: V1Deployment[];
  readonly leases: V1Lease[];
  readonly records: InstanceRecord[];
  readonly disks: ReturnType<DisksEmulator['disks']>;
}

async function snapshot(stack: RealStack): Promise<Snapshot> {
  const [deployments, leases, records] = await Promise.all([
    stack.apps.listNamespacedDeployment({ namespace: stack.namespace }),
    stack.leases.listNamespacedLease({ namespace: stack.namespace }),
    stack.custom.listNamespacedCustomObject(recordApi(stack)) as Promise<{ items: InstanceRecord[] }>,
  ]);
  return { deployments: deployments.items, leases: leases.items, records: records.items, disks: stack.emulator.disks() };
}

const ownerOf = (d: V1Deployment): string => d.metadata?.annotations?.[ANNOTATIONS.owner] ?? '';
const nameOf = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? '';
const diskOf = (d: V1Deployment): string | undefined =>
  d.spec?.template?.spec?.volumes?.find((volume) => volume.gcePersistentDisk)?.gcePersistentDisk?.pdName;
const slotsOf = (s: Snapshot, kind: 'user' | 'global'): V1Lease[] => s.leases.filter((l) => l.metadata?.labels?.[SLOT_LABEL] === kind);
const live = (d: V1Deployment): boolean => d.metadata?.deletionTimestamp === undefined;

/** After every step: no limit exceeded, no disk serves two Deployments, every Deployment names one owner, labelled with its hash. */
export function checkAlways(s: Snapshot): void {
  const perOwner = new Map<string, number>();
  for (const slot of slotsOf(s, 'user')) {
    const hash = slot.metadata?.labels?.[LABELS.ownerHash] ?? '';
    perOwner.set(hash, (perOwner.get(hash) ?? 0) + 1);
  }
  for (const [hash, count] of perOwner)
    if (count > LIMITS.perUser) fail(`owner ${hash} holds ${count} per-user slots, over the limit of ${LIMITS.perUser}`);
  const global = slotsOf(s, 'global').length;
  if (global > LIMITS.global) fail(`${global} global slots are held, over the limit of ${LIMITS.global}`);
  const served = new Map<string, string>();
  for (const d of s.deployments) {
    const owner = ownerOf(d);
    if (owner === '') fail(`Deployment ${nameOf(d)} has no owner`);
    if (d.metadata?.labels?.[LABELS.ownerHash] !== ownerHashOf(owner))
      fail(`Deployment ${nameOf(d)}'s owner-hash label is not its owner ${owner}'s`);
    const disk = diskOf(d);
    if (disk === undefined) fail(`Deployment ${nameOf(d)} mounts no disk`);
    const other = served.get(disk!);
    if (other !== undefined) fail(`disk ${disk} serves both ${other} and ${nameOf(d)}`);
    served.set(disk!, nameOf(d));
  }
}

/**
 * After a sweep past the grace period and every lock: each instance holds its
 * owner's per-user slot and a global one, runs on a disk that exists, agrees
 * with its record unless an operation holds it; every slot is a live
 * instance's; every record without a Deployment is destroyed; every disk is a
 * Deployment's, kept for a restore, or the pool's; no owner has more kept
 * than their count; the pool is full.
 */
export function checkSettled(s: Snapshot, nowMs: number): void {
  checkAlways(s);
  const allSlots = [...slotsOf(s, 'user'), ...slotsOf(s, 'global')];
  const deployments = new Map(s.deployments.map((d) => [nameOf(d), d]));
  const records = new Map(s.records.map((r) => [r.metadata.name, r]));
  const disks = new Map(s.disks.map((d) => [d.name, d]));
  const heldNow = (r: InstanceRecord): boolean => r.status?.operation !== undefined && Date.parse(r.status.operation.deadline) >= nowMs;
  for (const [name, d] of deployments) {
    if (!live(d)) continue;
    const own = allSlots.filter((slot) => slot.metadata?.labels?.[LABELS.instance] === name);
    const user = own.filter((slot) => slot.metadata?.labels?.[SLOT_LABEL] === 'user');
    if (user.length !== 1 || user[0]?.metadata?.labels?.[LABELS.ownerHash] !== ownerHashOf(ownerOf(d)))
      fail(
        `instance ${name} (owner ${ownerOf(d)}) holds per-user slots ${JSON.stringify(user.map((u) => `${nameOf(u)}(${u.metadata?.labels?.[LABELS.ownerHash]})`))}, not exactly its owner's`,
      );
    const global = own.filter((slot) => slot.metadata?.labels?.[SLOT_LABEL] === 'global');
    if (global.length !== 1) fail(`instance ${name} holds ${global.length} global slots`);
    const disk = diskOf(d) ?? '';
    if (!disks.has(disk)) fail(`instance ${name}'s disk ${disk} does not exist`);
    const record = records.get(name);
    if (record && !heldNow(record)) {
      if (record.spec.owner.email !== ownerOf(d))
        fail(`instance ${name}: its record's owner is ${record.spec.owner.email}, its Deployment's ${ownerOf(d)}`);
      const a = JSON.stringify(record.spec.collaborators);
      const b = JSON.stringify(collaboratorsOf(d));
      if (a !== b) fail(`instance ${name}: its record's collaborators are ${a}, its Deployment's ${b}`);
    }
  }
  for (const slot of allSlots) {
    const instance = slot.metadata?.labels?.[LABELS.instance] ?? '';
    if (!deployments.has(instance)) fail(`slot ${nameOf(slot)} is held for ${instance}, which has no Deployment`);
  }
  for (const [name, record] of records) {
    if (deployments.has(name)) continue;
    if (record.status?.phase !== 'destroyed' || heldNow(record))
      fail(
        `record ${name} (phase ${record.status?.phase}${record.status?.operation ? `, ${record.status.operation.kind}` : ''}) has no Deployment`,
      );
  }
  for (const disk of s.disks) {
    if (disk.labels?.[DISK_LABELS.pool] !== undefined) continue;
    if (deployments.has(disk.name)) continue;
    if (records.get(disk.name)?.status?.phase === 'destroyed') continue;
    fail(`disk ${disk.name} is no instance's, kept for no restore, and not the pool's`);
  }
  const kept = new Map<string, number>();
  for (const record of records.values()) {
    if (record.status?.phase !== 'destroyed' || heldNow(record)) continue;
    kept.set(record.spec.owner.email, (kept.get(record.spec.owner.email) ?? 0) + 1);
  }
  for (const [owner, count] of kept)
    if (count > LIMITS.perUser) fail(`${owner} has ${count} instances kept for a restore, over their count of ${LIMITS.perUser}`);
  const free = s.disks.filter((disk) => disk.labels?.[DISK_LABELS.poolState] === 'free').length;
  if (free !== POOL_SIZE) fail(`the pool has ${free} free disks after a sweep, not its size ${POOL_SIZE}`);
}

/** Once everything is destroyed and swept twice: nothing but the pool's free disks. */
export function checkEmpty(s: Snapshot, nowMs: number): void {
  const left = {
    deployments: s.deployments.map(nameOf),
    leases: s.leases.map(
      (l) => `${nameOf(l)}${l.metadata?.labels?.[SLOT_LABEL] !== undefined ? ` (${l.metadata.labels[SLOT_LABEL]})` : ''}`,
    ),
    records: s.records.map((r) => `${r.metadata.name} (${r.status?.phase})`),
    disks: s.disks.filter((disk) => disk.labels?.[DISK_LABELS.pool] === undefined).map((disk) => disk.name),
  };
  if (Object.values(left).some((names) => names.length > 0)) fail(`left once everything was destroyed and swept: ${JSON.stringify(left)}`);
  checkSettled(s, nowMs);
}

/** Who may see a Deployment in their list: its owner and its collaborators (an admin's `all`: everyone). */
const visibleTo = (s: Snapshot, person: string, all: boolean): string[] =>
  s.deployments
    .filter((d) => all || ownerOf(d) === person || collaboratorsOf(d).includes(person))
    .map(nameOf)
    .sort();

/**
 * Each person's list through the list function (and the admin's `all`)
 * shows exactly the instances whose Deployments name them as owner or
 * collaborator: the real API server's label selection held to who may see.
 * Work still finishing in the functions may change the Deployments while the
 * lists are read, so a list may match the snapshot before them or the one after.
 */
async function checkLists(stack: RealStack, before: Snapshot): Promise<void> {
  const views = [...EVERYONE.map((person) => ({ person, all: false })), { person: ADMIN, all: true }];
  const listed = await Promise.all(
    views.map(async ({ person, all }) => {
      const token = stack.tokenFor(person);
      const response = await fetch(`${operationUrl(stack.sets[0]!, 'list')}${all ? '?all=true' : ''}`, {
        headers: { authorization: `Bearer ${token}`, 'x-serverless-authorization': `Bearer ${token}` },
        signal: AbortSignal.timeout(60_000),
      });
      if (!response.ok) fail(`list by ${person}${all ? ' (all)' : ''} answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { instances: { name: string }[] }).instances.map((instance) => instance.name).sort();
    }),
  );
  const after = await snapshot(stack);
  views.forEach(({ person, all }, i) => {
    const shown = JSON.stringify(listed[i]);
    const [then, now] = [before, after].map((s) => JSON.stringify(visibleTo(s, person, all)));
    if (shown !== then && shown !== now)
      fail(`list by ${person}${all ? ' (all)' : ''} shows ${shown}, not ${then} (before) or ${now} (after)`);
  });
}

/** Waits until the emulator has no disk being made or deleted and no call arrives for a while: the functions' background work is done. */
async function quiesce(stack: RealStack): Promise<void> {
  let last = '';
  for (let i = 0; i < 100; i += 1) {
    const now = JSON.stringify([stack.emulator.calls, stack.emulator.disks().map((d) => `${d.name}:${d.status}`)]);
    if (now === last && !stack.emulator.disks().some((d) => d.status !== 'READY')) return;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** A sweep in this process, on a clock `offsetMs` ahead, with no fault armed: anything it fails to do is a finding. */
async function sweepAhead(stack: RealStack, offsetMs: number): Promise<void> {
  const context = await executionContext(stack.runtime, { caller: SWEEPER, report: () => undefined });
  const later = { now: () => Date.now() + offsetMs, sleep: context.clock.sleep };
  const report = await runSweep({ ...context, clock: later }, { dryRun: false });
  await stack.runtime.background.settled();
  if (report.failed.length > 0) fail(`a sweep with no fault failed: ${JSON.stringify(report.failed)}`);
}

/**
 * Runs one history: each step's faults armed, its operations sent (two at
 * once for a pair), the faults cleared, the invariants read. Then sweeps
 * past the grace period and every lock (checkSettled), past every lifetime,
 * and twice past the restore window (checkEmpty). Throws a Violation, with
 * the steps so far, on the first finding.
 */
export async function runHistory(stack: RealStack, steps: readonly Step[]): Promise<HistoryReport> {
  const model: Model = { names: [], contract: [] };
  const outcomes: string[] = [];
  const done: string[] = [];
  const config = stack.runtime.config;
  const lockMs = lockDurationMs(config);
  const graceMs = config.sweep.graceMs;
  try {
    for (const s of steps) {
      done.push(describeStep(s));
      stack.emulator.clearFaults();
      for (const fault of s.faults) stack.emulator.injectFault(fault);
      try {
        const results = await Promise.all(s.ops.map((op) => perform(stack, model, op)));
        results.forEach((result, i) => outcomes.push(`${s.ops[i]!.kind}:${result}`));
      } finally {
        stack.emulator.clearFaults();
      }
      const seen = await snapshot(stack);
      checkAlways(seen);
      await checkLists(stack, seen);
    }
    done.push('-- settle');
    await quiesce(stack);
    const settle = graceMs + lockMs + 1_000;
    await sweepAhead(stack, settle);
    await quiesce(stack);
    checkSettled(await snapshot(stack), Date.now() + settle);
    done.push('-- expire');
    const expire = settle + MAX_LIFETIME_S * 1000 + graceMs + 1_000;
    await sweepAhead(stack, expire);
    await quiesce(stack);
    const gone = expire + RESTORE_WINDOW_S * 1000 + graceMs + 1_000;
    await sweepAhead(stack, gone);
    await quiesce(stack);
    await sweepAhead(stack, gone);
    await quiesce(stack);
    checkEmpty(await snapshot(stack), Date.now() + gone);
  } catch (error) {
    if (error instanceof Violation) throw new Violation(`${error.message}\nafter:\n  ${done.join('\n  ')}`, { cause: error });
    throw error;
  }
  return { outcomes, contract: model.contract };
}

/** Makes the namespace empty again after a failed history, so that the next one starts clean: everything destroyed, swept. */
export async function cleanUp(stack: RealStack): Promise<void> {
  stack.emulator.clearFaults();
  await quiesce(stack);
  // Each sweep further ahead than the last: what one destroys on expiry is kept for a window from its (moved) time.
  const far = (MAX_LIFETIME_S + RESTORE_WINDOW_S) * 2000;
  for (let i = 1; i <= 3; i += 1) {
    const context = await executionContext(stack.runtime, { caller: SWEEPER, report: () => undefined });
    await runSweep({ ...context, clock: { now: () => Date.now() + far * i, sleep: context.clock.sleep } }, { dryRun: false }).catch(
      () => undefined,
    );
    await quiesce(stack);
  }
}
