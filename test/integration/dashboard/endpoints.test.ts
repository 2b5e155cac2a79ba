import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../harness/browser.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const CLIENT_ID = 'test-dashboard.apps.googleusercontent.com';

let stack: TestStack;
let browser: Browser;
let gateway: Gateway;
let dashboardUrl = '';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gateway = await startGateway();
  stack = await startTestStack({
    prefix: 'dashboard-endpoints',
    overrides: ({ issuer }) => ({
      // The PostgreSQL sample: one Service, so one endpoint on each card.
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../../templates/postgres.yaml.hbs', import.meta.url)),
      ALLOCATOR_PARAMETERS: fileURLToPath(new URL('../../../templates/postgres-parameters.yaml', import.meta.url)),
      ALLOCATOR_SERVER_NAME: 'postgres',
      ALLOCATOR_DASHBOARD_CLIENT_ID: CLIENT_ID,
      ALLOCATOR_DASHBOARD_ALLOCATOR: gateway.allocatorFor('pg'),
      ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT: `${issuer.url}/gsi/client`,
    }),
  });
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/pg-${name}`, stack.urls[name]);
  dashboardUrl = `${gateway.allocatorFor('pg')}-list/dashboard/`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await stack?.stop();
});

async function signedIn(email: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(dashboardUrl).origin });
  const page = await context.newPage();
  await page.goto(dashboardUrl);
  await page.getByLabel('Sign in as (local)').fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your instances' }).waitFor({ timeout: 30_000 });
  return page;
}

describe("the dashboard's card", () => {
  it('shows the endpoints of an instance, each with a copy button', async () => {
    const page = await signedIn('ada@example.com');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    expect(name).toMatch(/^postgres-[0-9a-f]{8}$/);
    const address = `${name}.${stack.namespace}.svc.cluster.local:5432`;
    const endpoints = page.getByRole('list', { name: `Endpoints of ${name}` });
    await endpoints.getByText(address).waitFor({ timeout: 60_000 });
    expect(await endpoints.getByRole('listitem').allTextContents()).toEqual([`postgres (TCP) ${address} Copy`]);
    await page.screenshot({ path: `${ARTIFACTS}/endpoints.png`, fullPage: true });
    await page.getByRole('button', { name: `Copy the endpoint postgres of ${name}` }).click();
    await page.getByRole('status').getByText(`Copied ${address}.`).waitFor({ timeout: 10_000 });
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(address);
  });
});
