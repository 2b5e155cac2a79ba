import type { AllocatorClient, CreateOptions, Instance } from '../client/allocator-client.ts';
import type { Progress } from './progress.ts';

export interface FollowOptions {
  readonly timeoutSeconds: number;
  readonly progress: Progress;
  /** How often the status line's seconds move on while nothing changes; default 1000. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Creates an instance without the server's wait, then follows it through
 * the watch until it is ready, so that the person at the terminal sees its state
 * and whatever keeps it from starting. A wait that times out or is
 * interrupted (`signal`) destroys the instance, as the server would.
 */
export async function createAndWait(
  client: AllocatorClient,
  options: FollowOptions & { create?: Omit<CreateOptions, 'wait'>; onCreated?: (instance: Instance) => void },
): Promise<Instance> {
  const created = await client.create({ ...options.create, wait: false });
  options.onCreated?.(created);
  try {
    return await followUntilReady(client, created.name, options);
  } catch (error) {
    options.progress.done(`${created.name}: destroying it`);
    await client.destroy(created.name).catch(() => undefined);
    throw error;
  }
}

/**
 * Follows the instance through the allocator's watch until it is ready,
 * showing its state and problems as they change; throws when it cannot get
 * there in time, or at once when a problem will not go away by waiting (the
 * server marks it `permanent`).
 */
export async function followUntilReady(client: AllocatorClient, name: string, options: FollowOptions): Promise<Instance> {
  const started = Date.now();
  const seconds = (): number => Math.round((Date.now() - started) / 1000);
  const interrupted = (): Error => new Error(`interrupted while ${name} was starting`);
  if (options.signal?.aborted) throw interrupted();
  const stop = new AbortController();
  let timedOut = false;
  let last: Instance | undefined;
  const show = (instance: Instance): void => {
    const problems = describeProblems(instance);
    options.progress.update(
      `${instance.name}: ${instance.state}, ${instance.readyReplicas}/${instance.replicas} ready (${seconds()}s)${problems ? `: ${problems}` : ''}`,
    );
  };
  // The seconds go on while nothing changes.
  const ticker = setInterval(() => last && show(last), options.pollMs ?? 1_000);
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort();
  }, options.timeoutSeconds * 1000);
  const onInterrupt = (): void => stop.abort();
  options.signal?.addEventListener('abort', onInterrupt, { once: true });
  try {
    for await (const event of client.watch({ signal: stop.signal })) {
      if (event.type === 'deleted' && event.name === name) throw new Error(`instance ${name} disappeared while it started`);
      if (event.type === 'synced' && !event.names.includes(name)) throw new Error(`instance ${name} disappeared while it started`);
      if (event.type !== 'instance' || event.instance.name !== name) continue;
      const instance = event.instance;
      last = instance;
      if (instance.state === 'ready') {
        options.progress.done(`${instance.name}: ready (${seconds()}s)`);
        return instance;
      }
      if (instance.state === 'suspended' || instance.state === 'deleting')
        throw new Error(`instance ${name} is ${instance.state}, so it will not become ready`);
      const permanent = instance.problems.filter((problem) => problem.permanent);
      if (permanent.length > 0) {
        options.progress.done(`${instance.name}: ${instance.state}: ${describeProblems(instance)}`);
        throw new Error(`instance ${instance.name} cannot start: ${describeProblems({ problems: permanent })}`);
      }
      show(instance);
    }
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onInterrupt);
    stop.abort();
  }
  if (timedOut) {
    const problems = last ? describeProblems(last) : '';
    throw new Error(`instance ${name} was not ready within ${options.timeoutSeconds}s${problems ? `: ${problems}` : ''}`);
  }
  throw interrupted();
}

export function describeProblems(instance: Pick<Instance, 'problems'>): string {
  return instance.problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ');
}
