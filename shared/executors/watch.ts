import { PassThrough, type Readable } from 'node:stream';
import type { V1Deployment } from '@kubernetes/client-node';
import { formatWatchId, type WatchEventName } from '../api/watch-fields.ts';
import { BadRequestError } from '../errors.ts';
import { byNewestFirst, stateOf, type Instance } from '../instances/instance.ts';
import { instanceSelector } from '../instances/metadata.ts';
import { ownerHashOf } from '../instances/naming.ts';
import { sharedSelector } from '../instances/sharing.ts';
import { WatchExpiredError, type DeploymentEvent, type DeploymentEventsClient } from '../kube/deployment-events.ts';
import type { CallerContext } from './context.ts';
import { viewInstances, visibleAs } from './list.ts';

/** What a watch needs besides the caller's context: the Deployments' events, how long a stream runs, and how often a starting instance is looked at again. */
export interface WatchContext extends CallerContext {
  readonly deploymentEvents: DeploymentEventsClient;
  readonly limitMs: number;
  /** How often an instance not ready is viewed again: its problems come from its pods, whose changes no Deployment event reports. */
  readonly recheckMs: number;
  /** Aborted when the caller goes: the watches close with it. */
  readonly signal: AbortSignal;
}

export interface WatchRequest {
  readonly all: boolean;
  /** The id of the last event the caller read: the resourceVersions to watch from. */
  readonly since?: readonly string[] | undefined;
}

/** How often a watch views again the instances still starting, for their pods' problems. */
export const WATCH_RECHECK_MS = 1_000;

/** One list the watch follows: the caller's own instances (every one, with `all`), or those shared with them. */
interface Source {
  readonly from: 'owned' | 'shared';
  readonly selector: string;
}

/** What the stream last sent of an instance: its view as JSON, or that it went. */
type Sent = { readonly json: string; readonly ready: boolean } | 'deleted';

/**
 * The caller's instances, exactly those list shows them, as server-sent
 * events: on connect (without `since`) one `instance` event for each and a
 * `synced` event, then one event per change, each instance whole. Every
 * event's (or, when a change leaves the view as it was, a bare) `id:` is where
 * the Kubernetes watches stand, so a resume from it misses and repeats
 * nothing; a resume the cluster no longer has the history for (410 Gone) gets
 * everything again, closed by `synced`. The stream ends cleanly after
 * `limitMs`.
 */
export async function watchInstances(context: WatchContext, request: WatchRequest): Promise<{ stream: Readable; until: string }> {
  const { caller, serverName } = context;
  const sources: Source[] = request.all
    ? [{ from: 'owned', selector: instanceSelector(serverName) }]
    : [
        { from: 'owned', selector: instanceSelector(serverName, ownerHashOf(caller.email)) },
        { from: 'shared', selector: sharedSelector(serverName, caller.email) },
      ];
  if (request.since !== undefined && request.since.length !== sources.length)
    throw new BadRequestError(`"since" is the id of a watch ${request.all ? 'without' : 'with'} all=true; start a new watch without it`);
  const watch = new InstanceWatch(context, sources, request.since);
  await watch.start();
  return { stream: watch.out, until: new Date(context.clock.now() + context.limitMs).toISOString() };
}

class InstanceWatch {
  readonly out = new PassThrough();
  readonly #context: WatchContext;
  readonly #sources: readonly Source[];
  readonly #versions: string[];
  /** The Deployments the caller sees, by name, per source. */
  readonly #held: Map<string, V1Deployment>[];
  readonly #sent = new Map<string, Sent>();
  readonly #stop = new AbortController();
  #watches = new AbortController();
  #generation = 0;
  #chain: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #rechecking = false;

  constructor(context: WatchContext, sources: readonly Source[], since: readonly string[] | undefined) {
    this.#context = context;
    this.#sources = sources;
    this.#versions = since ? [...since] : sources.map(() => '');
    this.#held = sources.map(() => new Map());
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted || this.#context.signal.aborted;
  }

  /** Lists (unless resuming) and opens the watches: a refusal here is the request's error, before any byte is sent. */
  async start(): Promise<void> {
    const resuming = this.#versions.every((version) => version !== '');
    if (resuming) await this.#seedStarting();
    else await this.#snapshot();
    await this.#openWatches();
    const stop = (): void => this.#end();
    this.#context.signal.addEventListener('abort', stop, { once: true });
    this.out.on('close', stop);
    this.#timers.push(
      setTimeout(() => this.#enqueue(async () => this.#end()), this.#context.limitMs),
      setInterval(() => this.#recheck(), this.#context.recheckMs),
    );
  }

  #end(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#stop.abort();
    this.#watches.abort();
    if (!this.out.writableEnded) this.out.end();
  }

  /** Runs `task` after every earlier one, so that events are sent in the order the watches gave them. */
  #enqueue(task: () => Promise<void> | void): void {
    this.#chain = this.#chain
      .then(async () => {
        if (!this.out.writableEnded) await task();
      })
      .catch((error: unknown) => {
        this.#end();
        this.out.destroy(error as Error);
      });
  }

  #write(event: WatchEventName | undefined, data: string | undefined, withId: boolean): void {
    if (this.out.writableEnded) return;
    const lines = [
      ...(event ? [`event: ${event}`] : []),
      ...(withId ? [`id: ${formatWatchId(this.#versions)}`] : []),
      ...(data !== undefined ? [`data: ${data}`] : []),
    ];
    this.out.write(`${lines.join('\n')}\n\n`);
  }

  /** Every instance the caller sees now, then `synced` with their names and where the lists stand. */
  async #snapshot(): Promise<void> {
    const lists = await Promise.all(this.#sources.map((source) => this.#context.deploymentEvents.list(source.selector)));
    lists.forEach((list, index) => {
      this.#versions[index] = list.resourceVersion;
      const source = this.#sources[index]!;
      this.#held[index] = new Map(
        list.items.filter((d) => visibleAs(this.#context, source.from, d)).map((d) => [d.metadata?.name ?? '', d] as const),
      );
    });
    const entries = this.#names().map((name) => this.#entry(name)!);
    const views = (await viewInstances(this.#context, entries)).sort(byNewestFirst);
    this.#sent.clear();
    for (const view of views) {
      const json = JSON.stringify(view);
      this.#sent.set(view.name, { json, ready: isSettled(view) });
      this.#write('instance', json, false);
    }
    this.#write('synced', JSON.stringify({ names: views.map((view) => view.name) }), true);
  }

  /**
   * On a resume, the instances still starting, to view again at the first
   * recheck: their problems may have changed while no stream was open, and
   * no Deployment event would say so. One may be sent again as the caller
   * last saw it; a ready one never is.
   */
  async #seedStarting(): Promise<void> {
    const lists = await Promise.all(this.#sources.map((source) => this.#context.deploymentEvents.list(source.selector)));
    lists.forEach((list, index) => {
      const source = this.#sources[index]!;
      for (const deployment of list.items) {
        if (!visibleAs(this.#context, source.from, deployment) || stateOf(deployment, []) !== 'starting') continue;
        const name = deployment.metadata?.name ?? '';
        this.#held[index]!.set(name, deployment);
        this.#sent.set(name, { json: '', ready: false });
      }
    });
  }

  #names(): string[] {
    return [...new Set(this.#held.flatMap((held) => [...held.keys()]))];
  }

  /** Whose view `name` gets: the caller's own (or an admin's) first, else shared with them. */
  #entry(name: string): { deployment: V1Deployment; shared: boolean } | undefined {
    const owned = this.#held[0]?.get(name);
    if (owned) return { deployment: owned, shared: false };
    const shared = this.#held[1]?.get(name);
    return shared ? { deployment: shared, shared: true } : undefined;
  }

  async #openWatches(): Promise<void> {
    this.#watches = new AbortController();
    const generation = ++this.#generation;
    const signal = AbortSignal.any([this.#watches.signal, this.#stop.signal, this.#context.signal]);
    await Promise.all(this.#sources.map((_source, index) => this.#openWatch(index, generation, signal)));
  }

  async #openWatch(index: number, generation: number, signal: AbortSignal): Promise<void> {
    const { ended } = await this.#context.deploymentEvents.watch({
      labelSelector: this.#sources[index]!.selector,
      resourceVersion: this.#versions[index]!,
      timeoutSeconds: Math.ceil(this.#context.limitMs / 1000) + 5,
      signal,
      onEvent: (event) => this.#enqueue(() => this.#apply(index, event)),
    });
    ended.then(
      () =>
        this.#enqueue(async () => {
          if (generation === this.#generation && !this.#stopped) await this.#openWatch(index, generation, signal);
        }),
      (error: unknown) =>
        this.#enqueue(async () => {
          if (generation !== this.#generation || this.#stopped) return;
          if (!(error instanceof WatchExpiredError)) throw error;
          this.#watches.abort();
          await this.#snapshot();
          await this.#openWatches();
        }),
    );
  }

  async #apply(index: number, event: DeploymentEvent): Promise<void> {
    if (event.resourceVersion) this.#versions[index] = event.resourceVersion;
    if (event.type === 'BOOKMARK') return this.#write(undefined, undefined, true);
    const { deployment } = event;
    const name = deployment.metadata?.name ?? '';
    const visible = visibleAs(this.#context, this.#sources[index]!.from, deployment);
    const held = this.#held[index]!;
    // Of one the caller never saw here, not even its name is sent.
    if (!visible && !held.has(name) && !this.#sent.has(name)) return this.#write(undefined, undefined, true);
    if (visible && event.type !== 'DELETED') held.set(name, deployment);
    else held.delete(name);
    await this.#send(name);
  }

  /** Sends `name` as the caller now sees it, or only the id when that is what was sent last. */
  async #send(name: string): Promise<void> {
    const entry = this.#entry(name);
    const last = this.#sent.get(name);
    if (!entry) {
      if (last === 'deleted') return this.#write(undefined, undefined, true);
      this.#sent.set(name, 'deleted');
      return this.#write('deleted', JSON.stringify({ name }), true);
    }
    const [view] = await viewInstances(this.#context, [entry]);
    const json = JSON.stringify(view);
    if (last !== 'deleted' && last?.json === json) return this.#write(undefined, undefined, true);
    this.#sent.set(name, { json, ready: isSettled(view!) });
    this.#write('instance', json, true);
  }

  /** Views again the instances still starting: a pod's problem changes no Deployment. */
  #recheck(): void {
    if (this.#rechecking) return;
    const starting = [...this.#sent].filter(([, sent]) => sent !== 'deleted' && !sent.ready).map(([name]) => name);
    if (starting.length === 0) return;
    this.#rechecking = true;
    this.#enqueue(async () => {
      try {
        for (const name of starting) await this.#send(name);
      } finally {
        this.#rechecking = false;
      }
    });
  }
}

/** An instance whose problems will not change without its Deployment changing: ready, or not trying to be. */
function isSettled(view: Instance): boolean {
  return view.state === 'ready' || view.state === 'suspended' || view.state === 'deleting';
}
