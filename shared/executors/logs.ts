import { PassThrough, type Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { BadRequestError, FailedPreconditionError } from '../errors.ts';
import type { PodLogsClient } from '../kube/pod-logs.ts';
import { objectsSelector } from '../plans/instance-objects.ts';
import { logApiParams, type LogQuery } from '../plans/log-query.ts';
import type { CallerContext } from './context.ts';
import { findReadable } from './read-access.ts';

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
 * The logs of instance `name`'s pod, as a stream to send on unbuffered: the
 * API server's body itself, or when following that body passed on through a
 * stage that ends it cleanly after `followLimitMs`.
 */
export async function readLogs(context: LogsContext, request: LogsRequest): Promise<{ stream: Readable; followUntil?: string }> {
  const { name } = request;
  if (request.since !== undefined && request.sinceTime !== undefined) throw new BadRequestError('give "since" or "sinceTime", not both');
  const { phase } = await findReadable(context, name, "read other people's instances' logs");
  const pod = newestPod(
    await context.cluster.listPods({ labelSelector: objectsSelector(context.serverName, [name]) }).then((p) => p.items),
  );
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
  if (!request.follow) return { stream: body };
  return {
    stream: endingAfter(body, context.followLimitMs, stop),
    followUntil: new Date(context.clock.now() + context.followLimitMs).toISOString(),
  };
}

/** The pod to read: the newest not being deleted, else the newest (a rollout's new pod is the one the instance now is). */
export function newestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  const created = (pod: V1Pod): number => Date.parse(String(pod.metadata?.creationTimestamp ?? 0)) || 0;
  const sorted = [...pods].sort((a, b) => created(b) - created(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
  return sorted.find((pod) => !pod.metadata?.deletionTimestamp) ?? sorted[0];
}

/**
 * `body` passed on, ended cleanly after `ms`: the reader gets a whole stream
 * rather than one Cloud Run cuts at its timeout, and resumes from its last
 * line. The stage holds no more than its high-water mark.
 */
function endingAfter(body: Readable, ms: number, stop: () => void): Readable {
  const out = passedOn(body, new PassThrough());
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
function passedOn(body: Readable, out: PassThrough): PassThrough {
  body.on('error', (error) => out.destroy(error));
  out.on('close', () => body.destroy());
  body.pipe(out);
  return out;
}
