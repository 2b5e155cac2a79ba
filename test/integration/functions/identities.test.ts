import { fileURLToPath } from 'node:url';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/load-config.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { ADMIN, call, serveInProcess, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';

let stack: TestStack;
let yamlUrls: FunctionUrls;
let stopYaml = async (): Promise<void> => undefined;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'identities' });
  const runtime = makeCreateRuntime(
    loadConfig({
      ...stack.env,
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../../templates/syncbased-deployment.yaml.hbs', import.meta.url)),
    }),
  );
  const served = await serveInProcess(runtime);
  yamlUrls = served.urls;
  stopYaml = async () => {
    await served.stop();
    await runtime.disks().close();
    expect(served.violations, 'answers that /openapi.json does not describe').toEqual([]);
  };
});
afterAll(async () => {
  await stopYaml();
  await stack?.stop();
});

const hostile = [
  'o"brien@example.com',
  'back\\slash\\"@example.com',
  '{brace}}}{{name}}@example.com',
  'new\nline\r\ttab@example.com',
  'uni\u2028code-ü-日本-😀@example.com',
  '"],"admin":{"in":["*"]}},"x":"@evil.example',
  "'--name=/evil' --root-dir=/ @example.com",
];

describe('identities that contain JSON and template syntax', () => {
  it.each(
    hostile.flatMap(
      (email) =>
        [
          ['JSON', email],
          ['YAML', email],
        ] as const,
    ),
  )('stay one value in a %s template: %j', async (format, email) => {
    const urls = format === 'JSON' ? stack.urls : yamlUrls;
    const token = stack.issuer.issueIdToken({ email, audience: 'https://allocator.test' });
    const created = await call<{ name: string }>(urls.create, { token, body: { wait: false } });
    expect(created.status).toBe(201);
    try {
      const deployment = await stack.kubeConfig
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: created.body.name, namespace: stack.namespace });
      const containers = deployment.spec?.template.spec?.containers ?? [];
      expect(containers).toHaveLength(1);
      const command = containers[0]?.command ?? [];
      expect(command).toHaveLength(4);
      expect(command[1]).toBe(`--name=/ns.test/allocated/${created.body.name}`);
      expect(command[2]).toBe('--root-dir=/data/root');
      const permissions = JSON.parse(command[3]!.replace(/^--v23\.permissions\.literal=/, '')) as unknown;
      expect(permissions).toEqual({ Admin: { In: [email, ADMIN] } });
      const creatorInfo = JSON.parse(deployment.metadata?.annotations?.['v.io/creator-info'] ?? '') as Record<string, unknown>;
      expect(creatorInfo).toMatchObject({ email, mountName: `/ns.test/allocated/${created.body.name}` });
      const annotationKeys = Object.keys(deployment.metadata?.annotations ?? {}).filter(
        (key) => key !== 'deployment.kubernetes.io/revision',
      );
      expect(annotationKeys.sort()).toEqual([
        'allocator.dev/access-list',
        'allocator.dev/created-at',
        'allocator.dev/disk',
        'allocator.dev/mount-name',
        'allocator.dev/owner',
        'allocator.dev/owner-sub',
        'allocator.dev/replicas',
        'allocator.dev/version',
        'v.io/creator-info',
      ]);
      const listed = await call<{ instances: { name: string; owner: string }[] }>(urls.list, { token, method: 'GET' });
      expect(listed.body.instances).toEqual([expect.objectContaining({ name: created.body.name, owner: email })]);
    } finally {
      expect((await call(urls.destroy, { token, body: { name: created.body.name } })).status).toBe(200);
    }
  });
});
