import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../harness/browser.ts';
import { dashboardSettings, signIn } from './sign-in.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));

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
      ...dashboardSettings({ issuerUrl: issuer.url, allocator: gateway.allocatorFor('pg') }),
    }),
  });
  for (const name of ['create', 'destroy', 'list'] as const) gateway.route(`/pg-${name}`, stack.urls[name]);
  dashboardUrl = `${gateway.allocatorFor('pg')}-list/dashboard/`;
  browser = await launchChromium();
});
const signedIn = (email: string): Promise<Page> => signIn(browser, dashboardUrl, email, { clipboard: true });

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await stack?.stop();
});

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
