import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { call, serveInProcess, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/templates/${name}`, import.meta.url));

let stack: TestStack;
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'problems', overrides: { ALLOCATOR_MAX_INSTANCES_PER_USER: '5' } });
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await stack?.stop();
});

/**
 * The allocator with a template whose pods fail: through the real scheduler
 * (more CPU than the node has), or through kwok stages keyed on the pod's
 * `allocator.test/fails-with` annotation, which the fixture sets to the version.
 */
async function failingAllocator(template: string, version = 'v1'): Promise<FunctionUrls> {
  const runtime = makeCreateRuntime(loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: fixture(template), ALLOCATOR_VERSION: version }));
  const served = await serveInProcess(runtime);
  stops.push(async () => {
    await served.stop();
    await runtime.disks().close();
    expect(served.violations, 'answers that /openapi.json does not describe').toEqual([]);
  });
  return served.urls;
}

type Answer = Instance & { error?: { code: number; status: string; message: string } };

describe('an instance that does not become ready says why', () => {
  it.each([
    ['FailedScheduling', 'unschedulable.json.hbs', 'v1', /Insufficient cpu/],
    ['ImagePullBackOff', 'fails-with-version.json.hbs', 'ImagePullBackOff', /Back-off pulling image/],
    ['CrashLoopBackOff', 'fails-with-version.json.hbs', 'CrashLoopBackOff', /restarting failed container/],
    ['FailedAttachVolume', 'fails-with-version.json.hbs', 'FailedAttachVolume', /AttachVolume.Attach failed for volume "data-disk"/],
  ])('%s: in list, as state failing, and in the error when the wait runs out', async (reason, template, version, message) => {
    const urls = await failingAllocator(template, version);
    const token = stack.tokenFor('pat@example.com');
    const created = await call<Answer>(urls.create, { token, body: { wait: false } });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe('starting');
    const failing = await eventually(
      async () => {
        const listed = await call<{ instances: Answer[] }>(urls.list, { token, method: 'GET' });
        const instance = listed.body.instances.find((candidate) => candidate.name === created.body.name);
        return instance?.state === 'failing' && instance.problems.some((problem) => problem.reason === reason) ? instance : undefined;
      },
      30_000,
      `${reason} in list`,
    );
    const problem = failing.problems.find((candidate) => candidate.reason === reason);
    expect(problem).toEqual({ reason, message: expect.stringMatching(message), since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect((await call(urls.destroy, { token, body: { name: created.body.name } })).status).toBe(200);

    const waited = await call<Answer>(urls.create, { token, body: { waitTimeoutSeconds: 4 } });
    expect(waited.status).toBe(504);
    expect(waited.body.error?.message).toMatch(
      new RegExp(`^instance syncbased-[0-9a-f]{8} was not ready within 4 s: .*${reason}: .*; it was removed$`),
    );
  });
});
