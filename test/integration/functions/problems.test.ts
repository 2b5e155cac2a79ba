import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { call, diskNames, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';
import { eventually } from '../support.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/templates/${name}`, import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'problems', overrides: { ALLOCATOR_MAX_INSTANCES_PER_USER: '5' } });
});
afterAll(async () => stack?.stop());

/**
 * The allocator with a template whose pods fail: through the real scheduler
 * (more CPU than the node has), or through kwok stages keyed on the pod's
 * `allocator.test/fails-with` annotation, which the fixture sets to the version.
 */
async function failingAllocator(template: string, version = 'v1'): Promise<FunctionUrls> {
  return await stack.variant({ ALLOCATOR_TEMPLATE: fixture(template), ALLOCATOR_VERSION: version });
}

type Answer = Instance & { error?: { code: number; status: string; message: string } };

/** Nothing of instance `name` is left: no Deployment, no slot, no disk. */
async function expectNothingLeftOf(name: string): Promise<void> {
  const apps = stack.kubeConfig.makeApiClient(AppsV1Api);
  const coordination = stack.kubeConfig.makeApiClient(CoordinationV1Api);
  const deployments = await apps.listNamespacedDeployment({ namespace: stack.namespace });
  expect(deployments.items.map((deployment) => deployment.metadata?.name)).not.toContain(name);
  const slots = await coordination.listNamespacedLease({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` });
  expect(slots.items.map((lease) => lease.metadata?.name)).toEqual([]);
  expect(diskNames(stack.emulator)).not.toContain(name);
}

describe('an instance that does not become ready says why, and a transient problem waits the wait out', () => {
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
    expect(problem).toEqual({
      reason,
      message: expect.stringMatching(message),
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      permanent: false,
    });
    expect((await call(urls.destroy, { token, body: { name: created.body.name } })).status).toBe(200);

    const waited = await call<Answer>(urls.create, { token, body: { waitTimeoutSeconds: 10 } });
    expect(waited.status).toBe(504);
    expect(waited.body.error?.message).toMatch(
      new RegExp(`^instance syncbased-[0-9a-f]{8} was not ready within 10 s: .*${reason}: .*; it was removed$`),
    );
  });
});

describe('a create, resume or reset whose pods will not start fails fast', () => {
  it.each([
    ['ErrImagePull', /rpc error: code = NotFound desc = failed to pull and unpack image "[^"]+:ErrImagePull": .*: not found/],
    ['InvalidImageName', /couldn't parse image name "[^"]+": invalid reference format/],
    ['CreateContainerConfigError', /secret "db-password" not found/],
  ])('%s: a 400 FAILED_PRECONDITION naming it, long before the wait runs out, and nothing left', async (reason, message) => {
    const urls = await failingAllocator('fails-with-version.json.hbs', reason);
    const token = stack.tokenFor('pat@example.com');
    const started = Date.now();
    const created = await call<Answer>(urls.create, { token, body: {} }); // the allocator's own wait: 240 s
    const seconds = (Date.now() - started) / 1000;
    console.info(`fail fast: a create whose pod reports ${reason} answered in ${seconds.toFixed(1)} s (the wait is 240 s)`);
    expect(created.status).toBe(400);
    expect(created.body.error?.status).toBe('FAILED_PRECONDITION');
    const error = created.body.error?.message ?? '';
    expect(error).toMatch(new RegExp(`^instance (syncbased-[0-9a-f]{8}) cannot start: .*${reason}: syncbased: .*; it was removed$`));
    expect(error).toMatch(message);
    await expectNothingLeftOf(/^instance (\S+)/.exec(error)?.[1] ?? '');
  });

  it('resume and reset: the 400 too, leaving the instance in place as a timed-out wait does', async () => {
    const urls = await failingAllocator('fails-with-version.json.hbs', 'ErrImagePull');
    const token = stack.tokenFor('pat@example.com');
    const created = await call<Answer>(urls.create, { token, body: { wait: false } });
    expect(created.status).toBe(201);
    const name = created.body.name;
    expect((await call(`${urls.destroy}/suspend`, { token, body: { name } })).status).toBe(200);
    for (const [operation, url] of [
      ['resume', `${urls.create}/resume`],
      ['reset', `${urls.destroy}/reset`],
    ] as const) {
      const answer = await call<Answer>(url, { token, body: { name } });
      expect(answer.status, operation).toBe(400);
      expect(answer.body.error).toMatchObject({
        status: 'FAILED_PRECONDITION',
        message: expect.stringMatching(new RegExp(`^instance ${name} cannot start: .*ErrImagePull: syncbased: rpc error: code = NotFound`)),
      });
      const listed = await call<{ instances: Answer[] }>(urls.list, { token, method: 'GET' });
      expect(listed.body.instances.find((instance) => instance.name === name)?.problems).toContainEqual(
        expect.objectContaining({ reason: 'ErrImagePull', permanent: true }),
      );
    }
    expect((await call(urls.destroy, { token, body: { name } })).status).toBe(200);
    await expectNothingLeftOf(name);
  });
});
