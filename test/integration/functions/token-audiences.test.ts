import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { GCLOUD_CLIENT_ID } from '../../harness/token-issuer.ts';
import { ADMIN, AUDIENCE, call, startTestStack, type TestStack } from '../stack.ts';

// What a token minted for gcloud may not do, which a token bound to this allocator may (issue 29).
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    prefix: 'audiences',
    overrides: {
      ALLOCATOR_AUDIENCES: `${AUDIENCE},${GCLOUD_CLIENT_ID}`,
      ALLOCATOR_RESTORE_WINDOW_SECONDS: '3600',
      ALLOCATOR_MAX_INSTANCES_PER_USER: '3',
    },
  });
});
afterAll(async () => stack?.stop());

const ada = 'ada@example.com';
const bob = 'bob@example.com';
const viaGcloud = (email: string): string => stack.issuer.issueIdToken({ email, audience: GCLOUD_CLIENT_ID });
const refusedForGcloud = {
  error: { code: 403, status: 'PERMISSION_DENIED', message: expect.stringMatching(/minted for gcloud.*`allocator login`/) },
};

async function createAs(email: string): Promise<string> {
  const created = await call<Instance>(stack.urls.create, { token: stack.tokenFor(email), body: { wait: false } });
  expect(created.status).toBe(201);
  return created.body.name;
}

async function seenBy(email: string, name: string): Promise<Pick<Instance, 'owner' | 'collaborators'> | undefined> {
  const listed = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor(email), method: 'GET' });
  const found = listed.body.instances.find((instance) => instance.name === name);
  return found && { owner: found.owner, collaborators: found.collaborators };
}

describe('a token minted for gcloud changes nobody’s access (collision 5)', () => {
  it("cannot share, unshare or transfer even its holder's own instance: each is a 403 naming allocator login, and nothing changes", async () => {
    const name = await createAs(ada);
    const token = viaGcloud(ada);
    const attempts = [
      ['share', call(`${stack.urls.create}/share`, { token, body: { name, emails: [bob] } })],
      ['unshare', call(`${stack.urls.create}/unshare`, { token, body: { name, emails: [bob] } })],
      ['transfer', call(`${stack.urls.create}/transfer`, { token, body: { name, to: bob } })],
    ] as const;
    for (const [what, attempt] of attempts) {
      const answer = await attempt;
      expect({ what, status: answer.status, body: answer.body }).toEqual({ what, status: 403, body: refusedForGcloud });
    }
    expect(await seenBy(ada, name)).toEqual({ owner: ada, collaborators: [] });
    expect(await seenBy(bob, name)).toBeUndefined();
  });

  it('still lets its holder use their own instance with it, and a bound token share it', async () => {
    const name = await createAs(ada);
    expect((await call(`${stack.urls.create}/extend`, { token: viaGcloud(ada), body: { name } })).status).toBe(200);
    const shared = await call<Instance>(`${stack.urls.create}/share`, { token: stack.tokenFor(ada), body: { name, emails: [bob] } });
    expect({ status: shared.status, collaborators: shared.body.collaborators }).toEqual({ status: 200, collaborators: [bob] });
  });
});

describe("an admin's token minted for gcloud, restoring another's instance (collision 9)", () => {
  // Passes once restore.ts's findRestoreRecord asks the policy (checkBoundTokenFor) before its 404.
  it('is refused 403 naming allocator login, as every other operation on it is; a bound token restores it', async () => {
    const name = await createAs(bob);
    expect((await call(stack.urls.destroy, { token: stack.tokenFor(bob), body: { name } })).status).toBe(200);
    const refused = await call(`${stack.urls.create}/restore`, { token: viaGcloud(ADMIN), body: { name, wait: false } });
    expect({ status: refused.status, body: refused.body }).toEqual({ status: 403, body: refusedForGcloud });
    // A stranger's gcloud token keeps the 404 of a name with nothing to restore.
    expect((await call(`${stack.urls.create}/restore`, { token: viaGcloud(ada), body: { name, wait: false } })).status).toBe(404);
    const restored = await call<Instance>(`${stack.urls.create}/restore`, { token: stack.tokenFor(ADMIN), body: { name, wait: false } });
    expect({ status: restored.status, owner: restored.body.owner }).toEqual({ status: 200, owner: bob });
  });
});
