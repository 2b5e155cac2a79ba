import type { AllocatorClient, CreateOptions, Instance } from '../client/allocator-client.ts';
import type { Progress } from './progress.ts';

export interface FollowOptions {
  readonly timeoutSeconds: number;
  readonly progress: Progress;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Creates an instance without the server's wait, then follows it through
 * list until it is ready, so that the person at the terminal sees its state
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
 * Polls list until the instance is ready, showing its state and problems;
 * throws when it cannot get there in time, or at once when a problem will
 * not go away by waiting (the server marks it `permanent`).
 */
export async function followUntilReady(client: AllocatorClient, name: string, options: FollowOptions): Promise<Instance> {
  const started = Date.now();
  const seconds = (): number => Math.round((Date.now() - started) / 1000);
  for (;;) {
    if (options.signal?.aborted) throw new Error(`interrupted while ${name} was starting`);
    const instance = (await client.list()).find((candidate) => candidate.name === name);
    if (instance === undefined) throw new Error(`instance ${name} disappeared while it started`);
    if (instance.state === 'ready') {
      options.progress.done(`${instance.name}: ready (${seconds()}s)`);
      return instance;
    }
    if (instance.state === 'suspended' || instance.state === 'deleting')
      throw new Error(`instance ${name} is ${instance.state}, so it will not become ready`);
    const problems = describeProblems(instance);
    const permanent = instance.problems.filter((problem) => problem.permanent);
    if (permanent.length > 0) {
      options.progress.done(`${instance.name}: ${instance.state}: ${problems}`);
      throw new Error(`instance ${instance.name} cannot start: ${describeProblems({ problems: permanent })}`);
    }
    options.progress.update(
      `${instance.name}: ${instance.state}, ${instance.readyReplicas}/${instance.replicas} ready (${seconds()}s)${problems ? `: ${problems}` : ''}`,
    );
    if (seconds() >= options.timeoutSeconds)
      throw new Error(`instance ${instance.name} was not ready within ${options.timeoutSeconds}s${problems ? `: ${problems}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

export function describeProblems(instance: Pick<Instance, 'problems'>): string {
  return instance.problems.map((problem) => `${problem.reason}: ${problem.message}`).join('; ');
}
