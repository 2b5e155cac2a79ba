import { fileURLToPath } from 'node:url';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../harness/browser.ts';
import { dashboardSettings, signIn } from './sign-in.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';

let stack: TestStack;
let browser: Browser;
let gateway: Gateway;
let dashboardUrl = '';

beforeAll(async () => {
  gateway = await startGateway();
  stack = await startTestStack({
    prefix: 'dashboard-watch',
    overrides: ({ issuer }) => ({
      // The standard template, its pods ready only a second after they start (the harness's kwok stage for SLOW_READY).
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/slow-ready.json.hbs', import.meta.url)),
      ...dashboardSettings({ issuerUrl: issuer.url, allocator: gateway.allocatorFor('sb') }),
    }),
  });
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/sb-${name}`, stack.urls[name]);
  dashboardUrl = `${gateway.allocatorFor('sb')}-list/dashboard/`;
  browser = await launchChromium();
});
/** Signed in, with every request the page sends from its first. */
async function signedIn(email: string): Promise<{ page: Page; requests: Request[] }> {
  const requests: Request[] = [];
  const page = await signIn(browser, dashboardUrl, email, {
    beforeLoad: (opened) => opened.on('request', (request) => void requests.push(request)),
  });
  return { page, requests };
}

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await stack?.stop();
});

const state = (page: Page, name: string, value: string) => page.getByRole('article', { name }).locator(`.state-${value}`);

describe('the dashboard, following the watch', () => {
  it('sends nothing while nothing changes, and shows a change made elsewhere without a reload', async () => {
    const email = 'wendy@example.com';
    const made = await call<{ name: string }>(stack.urls.create, { token: stack.tokenFor(email), body: {} });
    expect(made.status).toBe(201);
    const { name } = made.body;
    const { page, requests } = await signedIn(email);
    await state(page, name, 'ready').waitFor({ timeout: 30_000 });

    // Idle: the watch's one open stream, and no request at all for five seconds.
    const before = requests.length;
    await page.waitForTimeout(5_000);
    expect(requests.slice(before).map((request) => `${request.method()} ${new URL(request.url()).pathname}`)).toEqual([]);

    // Suspended from elsewhere (the API, as the CLI does): the card says so with no request of its own.
    expect((await call(`${stack.urls.destroy}/suspend`, { token: stack.tokenFor(email), body: { name } })).status).toBe(200);
    await state(page, name, 'suspended').waitFor({ timeout: 60_000 });
    expect(requests.slice(before).filter((request) => !new URL(request.url()).pathname.endsWith('/watch'))).toEqual([]);

    // Destroyed from elsewhere: the card goes.
    expect((await call(stack.urls.destroy, { token: stack.tokenFor(email), body: { name } })).status).toBe(200);
    await page.getByRole('article', { name }).waitFor({ state: 'detached', timeout: 60_000 });
  });

  it("shows a create's steps as they happen, each with its time, while the create is still under way", async () => {
    const { page } = await signedIn('xena@example.com');
    // When each step appeared: a stream held back to its end would add them all at once.
    await page.evaluate(() => {
      type Steps = { children: { length: number } };
      const view = globalThis as unknown as {
        document: { getElementById(id: string): Steps };
        stepTimes: [number, number][];
        MutationObserver: new (callback: () => void) => { observe(node: Steps, options: { childList: boolean }): void };
        performance: { now(): number };
      };
      const steps = view.document.getElementById('progress-steps');
      view.stepTimes = [];
      new view.MutationObserver(() => void view.stepTimes.push([view.performance.now(), steps.children.length])).observe(steps, {
        childList: true,
      });
    });
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const region = page.getByRole('region', { name: 'Creating an instance: done' });
    await region.waitFor({ timeout: 30_000 });
    const steps = await region.getByRole('listitem').allTextContents();
    const name = /^(syncbased-[0-9a-f]{8}): /.exec(steps[0] ?? '')?.[1] ?? '';
    expect(steps.map((step) => step.replace(/\d+\.\d s$/, ''))).toEqual(
      [
        'slot taken',
        'disk ready',
        'Deployment sent to Kubernetes',
        'pod scheduled on a node',
        'image pulled',
        'containers started',
        'ready',
      ].map((words) => `${name}: ${words}`),
    );
    await page.getByRole('status').getByText(`${name} is ready.`).waitFor();
    const times = await page.evaluate(() => (globalThis as unknown as { stepTimes: [number, number][] }).stepTimes);
    const when = (count: number): number => times.find(([, shown]) => shown >= count)?.[0] ?? Number.NaN;
    // The disk's step (the second) was on the page well before ready (the seventh): between them the pod took its
    // second to become ready. (From the Deployment's step, ready may follow within a frame: ready tells the pod's steps.)
    expect(when(7) - when(2), JSON.stringify(times)).toBeGreaterThan(500);
    expect((await call(stack.urls.destroy, { token: stack.tokenFor('xena@example.com'), body: { name } })).status).toBe(200);
  });
});
