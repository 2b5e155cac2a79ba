import type { AllocatorClient, CreateOptions, Instance } from '../client/allocator-client.ts';
import type { Progress } from './progress.ts';

/**
 * Creates an instance without the server's wait, then follows it through
 * list until it is ready, so that the person at the terminal sees its state.
 * A wait that times out or is interrupted (`signal`) destroys the instance,
 * as the server would.
 */
export async function createAndWait(
  client: AllocatorClient,
  options: { create?: Omit<CreateOptions, 'wait'>; timeoutSeconds: number; progress: Progress; pollMs?: number; signal?: AbortSignal },
): Promise<Instance> {
  const started = Date.now();
  const created = await client.create({ ...options.create, wait: false });
  try {
    return await followUntilReady(client, created.name, { ...options, started });
  } catch (error) {
    options.progress.done(`${created.name}: destroying it`);
    await client.destroy(created.name).catch(() => undefined);
    throw error;
  }
}

async function followUntilReady(client: AllocatorClient, name: string, options: { timeoutSeconds: number; progress: Progress; pollMs?: number; signal?: AbortSignal; started: number }): Promise<Instance> {
  const { started } = options;
  const created = { name };
  const seconds = (): number => Math.round((Date.now() - started) / 1000);
  for (;;) {
    if (options.signal?.aborted) throw new Error(`interrupted while ${name} was starting`);
    const instance = (await client.list()).find((candidate) => candidate.name === created.name);
    if (instance === undefined) throw new Error(`instance ${created.name} disappeared while it started`);
    if (instance.readyReplicas >= instance.replicas && instance.replicas > 0) {
      options.progress.done(`${instance.name}: ready (${seconds()}s)`);
      return instance;
    }
    options.progress.update(`${instance.name}: ${instance.readyReplicas}/${instance.replicas} ready (${seconds()}s)`);
    if (seconds() >= options.timeoutSeconds) throw new Error(`instance ${instance.name} was not ready within ${options.timeoutSeconds}s, so it was destroyed`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
