import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../harness/browser.ts';
import { dashboardSettings, signIn } from './sign-in.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { ADMIN, call, diskNames, PROJECT, startTestStack, ZONE, type TestStack } from '../stack.ts';

// The dashboard with a restore window: its own stack, since the window is the allocator's setting and
// dashboard.test.ts's flows expect a destroy to leave nothing on the page.
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let stack: TestStack;
let browser: Browser;
let gateway: Gateway;
let dashboardUrl = '';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gateway = await startGateway();
  stack = await startTestStack({
    prefix: 'dashboard-restore',
    overrides: ({ issuer }) => ({
      ALLOCATOR_MAX_INSTANCES_PER_USER: '1',
      ALLOCATOR_RESTORE_WINDOW_SECONDS: '86400',
      ...dashboardSettings({ issuerUrl: issuer.url, allocator: gateway.allocatorFor('syncbase') }),
    }),
  });
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/syncbase-${name}`, stack.urls[name]);
  dashboardUrl = `${gateway.allocatorFor('syncbase')}-list/dashboard/`;
  browser = await launchChromium();
});
const signedIn = (email: string): Promise<Page> => signIn(browser, dashboardUrl, email);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await stack?.stop();
});

async function waitForState(page: Page, name: string, state: string): Promise<void> {
  await page
    .getByRole('list', { name: 'Your instances' })
    .getByRole('article', { name })
    .locator(`.state-${state}`)
    .waitFor({ timeout: 60_000 });
}

async function seriousAccessibilityFindings(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const results = (await page.evaluate('axe.run()')) as { violations: { id: string; impact: string; help: string }[] };
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}

describe('the dashboard, with a restore window, in a real browser', () => {
  it('lists a destroyed instance under "Recently destroyed" and restores it on its disk', async () => {
    const page = await signedIn('ada@example.com');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const mine = page.getByRole('list', { name: 'Your instances' });
    const name = (await mine.getByRole('article').first().getByRole('heading').textContent()) ?? '';
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    await waitForState(page, name, 'ready');
    const disk = stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);

    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page
      .getByRole('dialog', { name: `Destroy ${name}?` })
      .getByRole('button', { name: 'Destroy' })
      .click();
    await page.getByRole('status').getByText(`${name} is destroyed; it can be restored until`).waitFor();
    const destroyed = page.getByRole('list', { name: 'Recently destroyed' }).getByRole('article', { name });
    await destroyed.waitFor();
    await destroyed.getByText(/^for 23h 59m|^for 1d 0h/).waitFor();
    // Its card goes when the watch says the Deployment is gone, which may come after the destroy's answer.
    await mine.getByRole('article', { name }).waitFor({ state: 'detached', timeout: 60_000 });
    await expect(mine.getByRole('article').count()).resolves.toBe(0);
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/recently-destroyed.png`, fullPage: true });

    // Someone else sees nothing to restore; the admin restores it for its owner (and the list empties for both).
    const bob = await signedIn('bob@example.com');
    await bob.getByText('No instances yet.').waitFor();
    expect(await bob.getByRole('list', { name: 'Recently destroyed' }).isVisible()).toBe(false);
    await bob.context().close();

    await page.getByRole('button', { name: `Restore ${name}` }).click();
    await page.getByRole('heading', { name: `Restoring ${name}: done` }).waitFor({ timeout: 60_000 });
    await page.getByRole('status').getByText(`${name} is ready.`).waitFor();
    // Restore's steps: its slots again, its kept disk, then the Deployment.
    expect(
      (
        await page
          .getByRole('region', { name: `Restoring ${name}: done` })
          .getByRole('listitem')
          .allTextContents()
      ).slice(0, 3),
    ).toEqual([
      expect.stringMatching(new RegExp(`^${name}: slot taken`)),
      expect.stringMatching(new RegExp(`^${name}: disk ready`)),
      expect.stringMatching(new RegExp(`^${name}: Deployment sent to Kubernetes`)),
    ]);
    await waitForState(page, name, 'ready');
    // The section goes once the page's refresh after the answer has read the destroyed list again.
    await page.getByRole('list', { name: 'Recently destroyed' }).waitFor({ state: 'hidden', timeout: 30_000 });
    const restored = stack.emulator.disks({ project: PROJECT, zone: ZONE }).find((d) => d.name === name);
    expect({ id: restored?.id, created: restored?.creationTimestamp }).toEqual({ id: disk?.id, created: disk?.creationTimestamp });
    await page.context().close();

    // The admin destroys it and restores it for ada, from everyone's list.
    const admin = await signedIn(ADMIN);
    await admin.getByLabel("Show everyone's").check();
    await admin.getByRole('button', { name: `Destroy ${name}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    const theirs = admin.getByRole('list', { name: 'Recently destroyed' }).getByRole('article', { name });
    await theirs.getByText('ada@example.com').waitFor();
    await admin.getByRole('button', { name: `Restore ${name}` }).click();
    await admin.getByRole('list', { name: 'All instances' }).getByRole('article', { name }).getByText('ada@example.com').waitFor();
    // The restore holds the instance until it is ready: its steps say when it is done.
    await admin.getByRole('heading', { name: `Restoring ${name}: done` }).waitFor({ timeout: 60_000 });
    await admin.context().close();

    // Destroyed again, its disk kept; then deleted for good from "Recently destroyed", once confirmed: nothing is left.
    const again = await call(stack.urls.destroy, { token: stack.tokenFor('ada@example.com'), body: { name } });
    expect(again.body).toEqual({ name, destroyed: true, restorableUntil: expect.any(String) });
    const owner = await signedIn('ada@example.com');
    const kept = owner.getByRole('list', { name: 'Recently destroyed' }).getByRole('article', { name });
    await owner.getByRole('button', { name: `Delete now (${name})` }).click();
    const confirm = owner.getByRole('dialog', { name: `Delete ${name} now?` });
    await confirm.getByText('the instance can no longer be restored').waitFor();
    await confirm.getByRole('button', { name: 'Delete now' }).click();
    await owner.getByRole('status').getByText(`${name} is deleted for good.`).waitFor();
    await kept.waitFor({ state: 'detached' });
    expect(await owner.getByRole('list', { name: 'Recently destroyed' }).isVisible()).toBe(false);
    expect(await seriousAccessibilityFindings(owner)).toEqual([]);
    await owner.context().close();
    expect((await stack.kubeConfig.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: stack.namespace })).items).toEqual([]);
    expect(diskNames(stack.emulator)).toEqual([]);
    const restoreAfter = await call(`${stack.urls.create}/restore`, { token: stack.tokenFor('ada@example.com'), body: { name } });
    expect(restoreAfter.status).toBe(404);
  });
});
