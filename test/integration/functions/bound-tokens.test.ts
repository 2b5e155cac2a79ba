import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../../../shared/instances/instance.ts';
import { GCLOUD_CLIENT_ID } from '../../harness/token-issuer.ts';
import { ADMIN, AUDIENCE, call, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
let adaInstance: string;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'bound', overrides: { ALLOCATOR_AUDIENCES: `${AUDIENCE},${GCLOUD_CLIENT_ID}` } });
  const created = await call<Instance>(stack.urls.create, { token: stack.tokenFor('ada@example.com'), body: { wait: false } });
  expect(created.status).toBe(201);
  adaInstance = created.body.name;
});
afterAll(async () => stack?.stop());

const viaGcloud = (email: string): string => stack.issuer.issueIdToken({ email, audience: GCLOUD_CLIENT_ID });

describe("an admin's token minted for gcloud", () => {
  it('succeeds at no admin action: each is refused 403, naming allocator login', async () => {
    const token = viaGcloud(ADMIN);
    const attempts = [
      ['sweep', call(`${stack.urls.destroy}/sweep`, { token, body: { dryRun: true } })],
      ['list all', call(stack.urls.list, { token, method: 'GET', query: '?all=true' })],
      ["extend another's", call(`${stack.urls.create}/extend`, { token, body: { name: adaInstance } })],
      ["suspend another's", call(`${stack.urls.destroy}/suspend`, { token, body: { name: adaInstance } })],
      ["resume another's", call(`${stack.urls.create}/resume`, { token, body: { name: adaInstance, wait: false } })],
      ["reset another's", call(`${stack.urls.destroy}/reset`, { token, body: { name: adaInstance, wait: false } })],
      ["destroy another's", call(stack.urls.destroy, { token, body: { name: adaInstance } })],
    ] as const;
    for (const [what, attempt] of attempts) {
      const answer = await attempt;
      expect({ what, status: answer.status, body: answer.body }).toEqual({
        what,
        status: 403,
        body: { error: { code: 403, status: 'PERMISSION_DENIED', message: expect.stringMatching(/minted for gcloud.*`allocator login`/) } },
      });
    }
    const ada = await call<{ instances: Instance[] }>(stack.urls.list, { token: stack.tokenFor('ada@example.com'), method: 'GET' });
    expect(ada.body.instances.map((instance) => [instance.name, instance.state === 'suspended'])).toEqual([[adaInstance, false]]);
  });

  it('still lets its holder use their own instances, and hides nothing more than before from the rest', async () => {
    const own = await call<Instance>(stack.urls.create, { token: viaGcloud(ADMIN), body: { wait: false } });
    expect(own.status).toBe(201);
    const listed = await call<{ instances: Instance[] }>(stack.urls.list, { token: viaGcloud(ADMIN), method: 'GET' });
    expect(listed.body.instances.map((instance) => instance.name)).toEqual([own.body.name]);
    expect((await call(stack.urls.destroy, { token: viaGcloud(ADMIN), body: { name: own.body.name } })).status).toBe(200);
    // A non-admin's gcloud token keeps the 404 of somebody else's instance.
    expect((await call(stack.urls.destroy, { token: viaGcloud('bob@example.com'), body: { name: adaInstance } })).status).toBe(404);
  });

  it('is the admin again with a token bound to this allocator', async () => {
    expect((await call(`${stack.urls.destroy}/sweep`, { token: stack.tokenFor(ADMIN), body: { dryRun: true } })).status).toBe(200);
    expect((await call(stack.urls.destroy, { token: stack.tokenFor(ADMIN), body: { name: adaInstance } })).status).toBe(200);
  });
});
