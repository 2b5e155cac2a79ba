import { Transform, type Readable } from 'node:stream';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { needsBoundToken } from '../auth/policy.ts';
import { BadRequestError, FailedPreconditionError, NotFoundError } from '../errors.ts';
import { LABELS, podsSelector } from '../instances/metadata.ts';
import type { PodLogsClient } from '../kube/pod-logs.ts';
import { recordFromDeployment, type InstanceRecord } from '../model/record.ts';
import type { Role, Standing } from '../model/transitions.ts';
import { logApiParams, type LogQuery } from '../plans/log-query.ts';
import type { CallerContext } from './context.ts';
import { effectivePhase, standingOf } from './transition.ts';

/** What reading logs needs besides the caller's context: the log API, and how long a followed stream may run. */
export interface LogsContext extends CallerContext {
  readonly podLogs: PodLogsClient;
  readonly followLimitMs: number;
  /** Aborted when the caller goes: the stream to the API server closes with it. */
  readonly signal: AbortSignal;
}

export interface LogsRequest {
  readonly name: string;
  readonly follow: boolean;
  readonly since?: number;
  readonly sinceTime?: string;
  readonly tailLines?: number;
  readonly container?: string;
}

/**
 * Who may read an instance's logs, the one place that says so: its owner,
 * its collaborators and admins, whatever its phase, reading needs no hold.
 * Reading changes nothing, so it is no row of TRANSITIONS; the caller's
 * standing comes from the instance's record as for every operation
 * (`standingOf`). A stranger, and a collaborator once the instance is
 * destroyed, get the 404 of an instance that does not exist; an admin acting
 * on someone else's needs a token bound to this allocator, as every admin
 * action does.
 */
export const LOG_READERS: readonly Role[] = ['owner', 'collaborator', 'admin'];

export function checkMayReadLogs(name: string, standing: Standing | undefined): void {
  if (standing === undefined || !LOG_READERS.includes(standing.role)) throw new NotFoundError(`instance ${name} not found`);
  if (standing.role === 'admin' && !standing.boundToken) throw needsBoundToken("read other people's instances' logs");
}

/**
 * The logs of instance `name`'s pod, as a stream to send on unbuffered: the
 * API server's body itself, piped through one small buffer that ends it
 * cleanly after `followLimitMs` when following.
 */
export async function readLogs(context: LogsContext, request: LogsRequest): Promise<{ stream: Readable; followUntil?: string }> {
  const { name } = request;
  if (request.since !== undefined && request.sinceTime !== undefined) throw new BadRequestError('give "since" or "sinceTime", not both');
  const found = await readRecord(context, name);
  if (!found) throw new NotFoundError(`instance ${name} not found`);
  checkMayReadLogs(name, standingOf(context, found.record));
  const phase = effectivePhase(found.record, context.clock.now(), found.deployment);
  if (phase === 'destroyed' || phase === 'gone') throw new NotFoundError(`instance ${name} not found`);
  const pod = newestPod(await context.cluster.listPods({ labelSelector: podsSelector(context.serverName, name) }).then((p) => p.items));
  if (!pod)
    throw new FailedPreconditionError(
      `instance ${name} has no pod${phase === 'suspended' ? ' while suspended; resume it to read its logs' : ' yet; try again once it is scheduled'}`,
    );
  const containers = (pod.spec?.containers ?? []).map((container) => container.name);
  const container = request.container ?? containers[0];
  if (container === undefined || !containers.includes(container))
    throw new BadRequestError(
      `instance ${name} has no container "${request.container ?? ''}"; its pod's containers are ${containers.join(', ') || 'none'}`,
    );
  const query: LogQuery = {
    follow: request.follow,
    ...(request.since === undefined ? {} : { sinceSeconds: request.since }),
    ...(request.sinceTime === undefined ? {} : { sinceTime: request.sinceTime }),
    ...(request.tailLines === undefined ? {} : { tailLines: request.tailLines }),
  };
  const upstream = new AbortController();
  const stop = (): void => upstream.abort();
  const body = await context.podLogs.open({
    pod: pod.metadata?.name ?? '',
    container,
    params: logApiParams(query, container),
    signal: AbortSignal.any([upstream.signal, context.signal]),
  });
  if (!request.follow) return { stream: passedOn(body, coalescing()) };
  return {
    stream: endingAfter(body, context.followLimitMs, stop),
    followUntil: new Date(context.clock.now() + context.followLimitMs).toISOString(),
  };
}

/** The record (or, for an instance made before records, one read from its Deployment, not written: reading changes nothing) and Deployment. */
async function readRecord(
  context: CallerContext,
  name: string,
): Promise<{ record: InstanceRecord; deployment: V1Deployment | undefined } | undefined> {
  const { cluster, serverName } = context;
  const [record, deployment] = await Promise.all([cluster.readRecord(name), cluster.readDeployment(name)]);
  const ours = deployment?.metadata?.labels?.[LABELS.allocator] === serverName ? deployment : undefined;
  if (record) return record.metadata.labels[LABELS.allocator] === serverName ? { record, deployment: ours } : undefined;
  return ours ? { record: recordFromDeployment(ours, serverName), deployment: ours } : undefined;
}

/** The pod to read: the newest not being deleted, else the newest (a rollout's new pod is the one the instance now is). */
export function newestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  const created = (pod: V1Pod): number => Date.parse(String(pod.metadata?.creationTimestamp ?? 0)) || 0;
  const sorted = [...pods].sort((a, b) => created(b) - created(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
  return sorted.find((pod) => !pod.metadata?.deletionTimestamp) ?? sorted[0];
}

/**
 * `body` passed on through `coalescing()`, ended cleanly after `ms`: the
 * reader gets a whole stream rather than one Cloud Run cuts at its timeout,
 * and resumes from its last line.
 */
function endingAfter(body: Readable, ms: number, stop: () => void): Readable {
  const out = passedOn(body, coalescing());
  const timer = setTimeout(() => {
    body.unpipe(out);
    out.end();
    stop();
    body.destroy();
  }, ms);
  out.on('close', () => clearTimeout(timer));
  return out;
}

/** `body` piped into `out`, each ending the other: a failure of the source fails `out`, and `out` closed closes the source. */
function passedOn(body: Readable, out: Transform): Transform {
  body.on('error', (error) => out.destroy(error));
  out.on('close', () => body.destroy());
  body.pipe(out);
  return out;
}

/** The most bytes held before they are passed on at once. */
const COALESCE_BYTES = 64 * 1024;

/**
 * Joins the small pieces the log API sends (its kubelet flushes each line
 * as an HTTP chunk of its own) into one write per turn of the event loop,
 * at most COALESCE_BYTES: a line written alone still goes at once, while a
 * burst is sent in a few large chunks instead of one per line, which is
 * what the list function's memory would otherwise spend on. Backpressure
 * holds: a Transform takes no more while what it passed on is unread.
 */
export function coalescing(): Transform {
  let pending: Buffer[] = [];
  let size = 0;
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (stream: Transform): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (size === 0) return;
    stream.push(pending.length === 1 ? pending[0] : Buffer.concat(pending, size));
    pending = [];
    size = 0;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= COALESCE_BYTES) flush(this);
      else scheduled ??= setImmediate(() => flush(this));
      callback();
    },
    flush(callback) {
      flush(this);
      callback();
    },
    destroy(error, callback) {
      if (scheduled) clearImmediate(scheduled);
      callback(error);
    },
  });
}
