import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RbacAuthorizationV1Api, type V1Role, type V1RoleBinding } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { RUNTIME_USER } from '../../harness/control-plane.ts';
import { ADMIN, call, startTestStack, type TestStack } from '../stack.ts';

const RBAC = fileURLToPath(new URL('../../../infra/k8s/rbac.yaml', import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  // The allocator runs as a plain user with no rights but those infra/k8s/rbac.yaml grants, as in production.
  stack = await startTestStack({
    prefix: 'rbac',
    overrides: { ALLOCATOR_KUBECONFIG: inject('runtimeKubeconfigPath'), ALLOCATOR_MAX_INSTANCES_PER_USER: '3' },
  });
});
afterAll(async () => stack?.stop());

/** infra/k8s/rbac.yaml as infra/setup.sh applies it: the namespace and the runtime account filled in. */
async function applyRbac(): Promise<void> {
  const text = readFileSync(RBAC, 'utf8').replaceAll('NAMESPACE', stack.namespace).replaceAll('RUNTIME_ACCOUNT', RUNTIME_USER);
  const [role, binding] = loadAll(text) as [V1Role, V1RoleBinding];
  const rbac = stack.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: stack.namespace, body: role });
  await rbac.createNamespacedRoleBinding({ namespace: stack.namespace, body: binding });
}

type Answer = Instance & { error?: { code: number; status: string; message: string } };
const as = (email: string) => ({ token: stack.tokenFor(email) });

describe('the allocator with exactly the RBAC of infra/k8s/rbac.yaml', () => {
  it('is refused before the Role is bound, and says to check its RBAC', async () => {
    const refused = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: {} });
    expect(refused.status).toBe(500);
    expect(refused.body.error?.message).toMatch(/not allowed to do this \(HTTP 403\); check its RBAC/);
  });

  it('does everything it offers once it is bound', async () => {
    await applyRbac();
    const created = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: {} });
    expect(created.status).toBe(201);
    const name = created.body.name;
    const pending = await call<Answer>(stack.urls.create, { ...as('rob@example.com'), body: { wait: false } });
    expect(pending.status).toBe(201);
    // A list with an instance on its way up reads pods and events.
    const listed = await call<{ instances: Answer[] }>(stack.urls.list, { ...as('rob@example.com'), method: 'GET' });
    expect(listed.status).toBe(200);
    expect(listed.body.instances.map((i) => i.name).sort()).toEqual([name, pending.body.name].sort());
    for (const [url, body] of [
      [`${stack.urls.destroy}/suspend`, { name }],
      [`${stack.urls.create}/resume`, { name }],
      [`${stack.urls.destroy}/reset`, { name }],
      [`${stack.urls.create}/extend`, { name, lifetimeSeconds: 600 }],
    ] as const) {
      const answer = await call<Answer>(url, { ...as('rob@example.com'), body });
      expect({ url, status: answer.status, error: answer.body.error }).toEqual({ url, status: 200, error: undefined });
    }
    const sweep = await call<{ failed: unknown[] }>(`${stack.urls.destroy}/sweep`, { ...as(ADMIN), body: { dryRun: false } });
    expect(sweep.status).toBe(200);
    expect(sweep.body.failed).toEqual([]);
    for (const each of [name, pending.body.name])
      expect((await call(stack.urls.destroy, { ...as('rob@example.com'), body: { name: each } })).status).toBe(200);
  });
});
