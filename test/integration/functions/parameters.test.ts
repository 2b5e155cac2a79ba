import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoordinationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterDeclarationsOf } from '../../../shared/api/parameters.ts';
import { loadConfig } from '../../../shared/config/load-config.ts';
import type { Instance } from '../../../shared/instances/instance.ts';
import { instanceParameters } from '../../../shared/instances/metadata.ts';
import { makeCreateRuntime } from '../../../shared/runtime/create-runtime.ts';
import { call, diskNames, serveInProcess, startTestStack, type FunctionUrls, type TestStack } from '../stack.ts';

const FIXTURES = new URL('../../fixtures/templates/', import.meta.url);
const IMAGE = 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased';

let stack: TestStack;
/** Create from the same template in YAML, beside the stack's JSON one. */
let yamlUrls: FunctionUrls;
let stopYaml = async (): Promise<void> => undefined;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'parameters',
    overrides: {
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('parameters.json.hbs', FIXTURES)),
      ALLOCATOR_PARAMETERS: fileURLToPath(new URL('parameters.yaml', FIXTURES)),
      ALLOCATOR_MAX_INSTANCES_PER_USER: '5',
    },
  });
  const runtime = makeCreateRuntime(
    loadConfig({ ...stack.env, ALLOCATOR_TEMPLATE: fileURLToPath(new URL('parameters-deployment.yaml.hbs', FIXTURES)) }),
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

type Answer = Instance & { error?: { code: number; status: string; message: string } };

async function create(email: string, body: unknown, headers: Record<string, string> = {}, url = stack.urls.create) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.tokenFor(email)}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}
async function operation(url: string, email: string, body: unknown) {
  return await call<Answer>(url, { token: stack.tokenFor(email), body });
}
async function deployment(name: string): Promise<V1Deployment> {
  return await stack.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: stack.namespace });
}
/** What the instance's one container runs with: its image and its environment. */
async function running(name: string): Promise<{ containers: number; image?: string; env: Record<string, string> }> {
  const containers = (await deployment(name)).spec?.template.spec?.containers ?? [];
  return {
    containers: containers.length,
    image: containers[0]?.image,
    env: Object.fromEntries((containers[0]?.env ?? []).map((variable) => [variable.name, variable.value ?? ''])),
  };
}
async function everything(): Promise<{ deployments: string[]; leases: number; disks: string[] }> {
  const apps = stack.kubeConfig.makeApiClient(AppsV1Api);
  const coordination = stack.kubeConfig.makeApiClient(CoordinationV1Api);
  return {
    deployments: (await apps.listNamespacedDeployment({ namespace: stack.namespace })).items.map((d) => d.metadata?.name ?? ''),
    leases: (await coordination.listNamespacedLease({ namespace: stack.namespace })).items.length,
    disks: diskNames(stack.emulator),
  };
}

describe('parameters against the local control plane', () => {
  it('makes the Deployment with the chosen values, shows them, and keeps them through suspend, resume, reset, share and transfer', async () => {
    const ada = 'ada@example.com';
    const created = await create(ada, { parameters: { imageTag: 'pr-123', logLevel: 'debug' } });
    expect(created.status).toBe(201);
    const { name } = created.body;
    const chosen = { imageTag: 'pr-123', logLevel: 'debug', note: '' };
    expect(created.body.parameters).toEqual(chosen);
    expect(await running(name)).toEqual({ containers: 1, image: `${IMAGE}:pr-123`, env: { LOG_LEVEL: 'debug', NOTE: '' } });
    expect(instanceParameters((await deployment(name)).metadata?.annotations)).toEqual(chosen);
    const listed = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(ada), method: 'GET' });
    expect(listed.body.instances.find((instance) => instance.name === name)?.parameters).toEqual(chosen);

    expect((await operation(`${stack.urls.destroy}/suspend`, ada, { name })).status).toBe(200);
    const resumed = await operation(`${stack.urls.create}/resume`, ada, { name });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ state: 'ready', parameters: chosen });
    const reset = await operation(`${stack.urls.destroy}/reset`, ada, { name });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ state: 'ready', parameters: chosen });
    expect(await running(name)).toEqual({ containers: 1, image: `${IMAGE}:pr-123`, env: { LOG_LEVEL: 'debug', NOTE: '' } });

    // Sharing and transferring render the template again: with the instance's own parameters.
    expect((await operation(`${stack.urls.create}/share`, ada, { name, emails: ['bob@example.com'] })).status).toBe(200);
    const transferred = await operation(`${stack.urls.create}/transfer`, ada, { name, to: 'cy@example.com' });
    expect(transferred.status).toBe(200);
    expect(transferred.body.parameters).toEqual(chosen);
    expect(await running(name)).toEqual({ containers: 1, image: `${IMAGE}:pr-123`, env: { LOG_LEVEL: 'debug', NOTE: '' } });
    expect((await operation(stack.urls.destroy, 'cy@example.com', { name })).status).toBe(200);

    // Without parameters, every default.
    const plain = await create(ada, {});
    expect(plain.body.parameters).toEqual({ imageTag: 'v1', logLevel: 'info', note: '' });
    expect((await running(plain.body.name)).image).toBe(`${IMAGE}:v1`);
    expect((await operation(stack.urls.destroy, ada, { name: plain.body.name })).status).toBe(200);
  });

  it.each([
    ['an unknown name', { image: 'x' }, /unknown parameter "image"; this allocator takes imageTag, logLevel, note/],
    ['a value outside the enum', { logLevel: 'trace' }, /parameter "logLevel" is "trace": it must be one of "debug", "info", "warning"/],
    ['a value that breaks the pattern', { imageTag: 'PR-1' }, /parameter "imageTag" is "PR-1": it must be text matching/],
    ['a value too long', { note: 'x'.repeat(201) }, /parameter "note" .*at most 200 characters/],
    ['a value that is no string', { imageTag: 123 }, /parameter "imageTag" must be a string/],
    ['a value with a control character', { note: 'new\nline' }, /without control characters/],
  ])('refuses %s with a 400 naming the parameter, and makes nothing', async (_label, parameters, message) => {
    const before = await everything();
    const refused = await create('bob@example.com', { parameters });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(await everything()).toEqual(before);
  });

  it.each(['JSON', 'YAML'] as const)('renders hostile values verbatim in a %s template, as one value of one container', async (format) => {
    const hostile = ['o"brien \\ back\\"slash', '{brace}}}{{Name}}"}],"x":[{"a":"', 'uni\u2028code-ü-日本-😀', "'--name=/evil' $(id)"];
    for (const note of hostile) {
      const created = await create(
        'hal@example.com',
        { wait: false, parameters: { note } },
        {},
        format === 'JSON' ? stack.urls.create : yamlUrls.create,
      );
      expect(created.status, note).toBe(201);
      expect(await running(created.body.name)).toEqual({ containers: 1, image: `${IMAGE}:v1`, env: { LOG_LEVEL: 'info', NOTE: note } });
      expect(created.body.parameters.note).toBe(note);
      expect((await operation(stack.urls.destroy, 'hal@example.com', { name: created.body.name })).status).toBe(200);
    }
  });

  it("answers a keyed create's retry with the same parameters, and refuses the key with others", async () => {
    const key = { 'idempotency-key': 'parameters-k1' };
    const first = await create('kai@example.com', { wait: false, parameters: { imageTag: 'pr-7' } }, key);
    expect(first.status).toBe(201);
    const again = await create('kai@example.com', { wait: false, parameters: { imageTag: 'pr-7' } }, key);
    expect(again.status).toBe(201);
    expect(again.body.name).toBe(first.body.name);
    const before = await everything();
    const other = await create('kai@example.com', { wait: false, parameters: { imageTag: 'pr-8' } }, key);
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      status: 'ALREADY_EXISTS',
      message: expect.stringMatching(/with other parameters \(imageTag\): a different request; use a new key/),
    });
    expect(await everything()).toEqual(before);
    expect((await operation(stack.urls.destroy, 'kai@example.com', { name: first.body.name })).status).toBe(200);
  });

  it('publishes the declarations in /openapi.json, without a token', async () => {
    const response = await fetch(`${stack.urls.list}/openapi.json`);
    expect(response.status).toBe(200);
    expect(parameterDeclarationsOf(await response.json())).toEqual([
      {
        name: 'imageTag',
        description: "The syncbased image tag to run, such as a pull request's build.",
        default: 'v1',
        pattern: '^[a-z0-9][-a-z0-9._]*$',
        maxLength: 64,
      },
      { name: 'logLevel', description: 'How much syncbased logs.', default: 'info', enum: ['debug', 'info', 'warning'] },
      {
        name: 'note',
        description: 'Free text the instance carries in its environment as NOTE.',
        default: '',
        pattern: '^[\\s\\S]*$',
        maxLength: 200,
      },
    ]);
  });
});
