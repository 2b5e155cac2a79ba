import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AppsV1Api } from '@kubernetes/client-node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClusterClient } from '../../../shared/kube/cluster.ts';
import { holdingPhase } from '../../../shared/model/transitions.ts';
import { launchChromium } from '../../harness/browser.ts';
import { dashboardSettings, signIn } from './sign-in.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { ADMIN, startTestStack, type TestStack } from '../stack.ts';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let stack: TestStack;
let browser: Browser;
/** The page is served through one gateway and calls the API through another: two origins, as on run.app. */
let pageGateway: Gateway;
let apiGateway: Gateway;
let dashboardUrl = '';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [pageGateway, apiGateway] = await Promise.all([startGateway(), startGateway()]);
  stack = await startTestStack({
    prefix: 'dashboard',
    overrides: ({ issuer }) => ({
      // A template with parameters: create offers them as a form.
      ALLOCATOR_TEMPLATE: fileURLToPath(new URL('../../fixtures/templates/parameters.json.hbs', import.meta.url)),
      ALLOCATOR_PARAMETERS: fileURLToPath(new URL('../../fixtures/templates/parameters.yaml', import.meta.url)),
      ALLOCATOR_MAX_INSTANCES_PER_USER: '1',
      ALLOCATOR_DEFAULT_LIFETIME_SECONDS: '3600',
      ALLOCATOR_MAX_LIFETIME_SECONDS: '86400',
      ...dashboardSettings({
        issuerUrl: issuer.url,
        allocator: apiGateway.allocatorFor('syncbase'),
        pageOrigin: new URL(pageGateway.allocatorFor('syncbase')).origin,
      }),
    }),
  });
  for (const name of ['create', 'destroy', 'list'] as const) {
    pageGateway.route(`/syncbase-${name}`, stack.urls[name]);
    apiGateway.route(`/syncbase-${name}`, stack.urls[name]);
  }
  dashboardUrl = `${pageGateway.allocatorFor('syncbase')}-list/dashboard/`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([pageGateway?.stop(), apiGateway?.stop()]);
  await stack?.stop();
});

async function signedIn(email: string, viewport = { width: 1100, height: 900 }): Promise<Page> {
  const page = await signIn(browser, dashboardUrl, email, { viewport, clipboard: true });
  await expectVisible(page.getByText(email));
  return page;
}

async function expectVisible(locator: ReturnType<Page['getByText']>, timeout = 30_000): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout });
}

/** Waits for the card of `name` to show `state`; a timeout says what the card, the page's alerts and the functions' last log lines said. */
async function waitForState(page: Page, name: string, state: string): Promise<void> {
  const card = page.getByRole('article', { name });
  try {
    await card.locator(`.state-${state}`).waitFor({ timeout: 60_000 });
  } catch (error) {
    const shown = await card.textContent({ timeout: 1_000 }).catch(() => '(no card)');
    const alerts = await page
      .getByRole('alert')
      .allTextContents()
      .catch(() => []);
    const logs = stack.logs.filter((line) => line.includes(name)).slice(-30);
    throw new Error(`${name} did not show ${state}. Card: ${shown}\nAlerts: ${alerts.join(' | ')}\nLogs:\n${logs.join('\n')}`, {
      cause: error,
    });
  }
}

/**
 * axe-core's findings of serious or critical impact on the page as it is now.
 * It is evaluated through the DevTools protocol: the page's CSP rightly
 * refuses an injected script tag.
 */
async function seriousAccessibilityFindings(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const results = (await page.evaluate('axe.run()')) as { violations: { id: string; impact: string; help: string }[] };
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}

describe('the dashboard in a real browser', () => {
  it('signs in, creates, suspends, resumes, resets, extends and destroys an instance', async () => {
    const page = await signedIn('ada@example.com');
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    expect(name).toMatch(/^syncbased-[0-9a-f]{8}$/);
    await waitForState(page, name, 'ready');
    await expectVisible(page.getByRole('status').getByText(`${name} is ready`));
    await expectVisible(article.getByText(/^in 59m|^in 1h 00m/));
    await page.screenshot({ path: `${ARTIFACTS}/ready.png`, fullPage: true });
    expect(await seriousAccessibilityFindings(page)).toEqual([]);

    await page.getByRole('button', { name: `Copy the mount name of ${name}` }).click();
    await expectVisible(page.getByRole('status').getByText(`Copied /ns.test/allocated/${name}.`));

    await page.getByRole('button', { name: `Suspend ${name}` }).click();
    await waitForState(page, name, 'suspended');
    // The controls are the ones list says this person may run now: a suspended instance cannot be restarted.
    expect(await page.getByRole('button', { name: `Restart ${name}` }).count()).toBe(0);
    await page.getByRole('button', { name: `Resume ${name}` }).click();
    await waitForState(page, name, 'ready');
    await page.getByRole('button', { name: `Restart ${name}` }).click();
    await expectVisible(page.getByRole('heading', { name: `Restarting ${name}: done` }), 60_000);
    await expectVisible(page.getByRole('status').getByText(`${name} is ready.`));

    await page.getByRole('button', { name: `Reset ${name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Reset ${name}?` });
    await dialog.waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/confirm-reset.png` });
    await dialog.getByRole('button', { name: 'Reset' }).click();
    await expectVisible(page.getByRole('heading', { name: `Resetting ${name}: done` }), 60_000);
    // Reset's own steps: its pods go first, then its disk is made anew.
    const steps = page.getByRole('region', { name: `Resetting ${name}: done` }).getByRole('listitem');
    expect((await steps.allTextContents()).slice(0, 2)).toEqual([
      expect.stringMatching(new RegExp(`^${name}: pods stopped\\d+\\.\\d s$`)),
      expect.stringMatching(new RegExp(`^${name}: disk ready\\d+\\.\\d s$`)),
    ]);
    // The answer came once the instance was ready; the card follows the list's watch, a moment behind under load.
    await expectVisible(page.getByRole('status').getByText(`${name} is ready.`));
    await waitForState(page, name, 'ready');

    await page.getByRole('button', { name: `Extend ${name}` }).click();
    await expectVisible(page.getByRole('status').getByText(`${name} now expires`));

    // An error from the API appears on the page: the per-user limit is 1.
    await page.getByRole('button', { name: 'Create an instance' }).click();
    await expectVisible(page.getByRole('alert').getByText(/^Limit reached: you already have 1 instance/));
    await page.screenshot({ path: `${ARTIFACTS}/limit-reached.png`, fullPage: true });

    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page
      .getByRole('dialog', { name: `Destroy ${name}?` })
      .getByRole('button', { name: 'Destroy' })
      .click();
    await expectVisible(page.getByText('No instances yet.'));
    await page.context().close();
  });

  it("shows each person only their own instances, and the admin everyone's", async () => {
    const ada = await signedIn('ada@example.com');
    await ada.getByRole('button', { name: 'Create an instance' }).click();
    const name = (await ada.getByRole('article').first().getByRole('heading').textContent()) ?? '';
    await waitForState(ada, name, 'ready');

    const bob = await signedIn('bob@example.com');
    await expectVisible(bob.getByText('No instances yet.'));
    expect(await bob.getByRole('article').count()).toBe(0);
    expect(await bob.getByLabel("Show everyone's").isVisible()).toBe(false);

    const admin = await signedIn(ADMIN);
    await admin.getByLabel("Show everyone's").check();
    await expectVisible(admin.getByRole('heading', { name: 'All instances' }));
    await waitForState(admin, name, 'ready');
    await expectVisible(admin.getByRole('article', { name }).getByText('ada@example.com'));

    await ada.getByRole('button', { name: `Destroy ${name}` }).click();
    await ada.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(ada.getByText('No instances yet.'));
    for (const page of [ada, bob, admin]) await page.context().close();
  });

  it('asks the person to sign in again when their token runs out, and goes on after', async () => {
    // A 40 s token: the page asks again 30 s before one runs out, so this waits 10 s, not an hour.
    stack.issuer.signInSeconds = 40;
    const page = await signedIn('tia@example.com');
    stack.issuer.signInSeconds = 3600;
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    await page.getByRole('button', { name: 'Create an instance' }).click();
    await expectVisible(page.getByText('Your sign-in has expired; sign in again to go on.'));
    await page.getByLabel('Sign in as (local)').fill('tia@example.com');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectVisible(page.getByRole('heading', { name: 'Your instances' }));
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const name = (await page.getByRole('article').first().getByRole('heading').textContent()) ?? '';
    await waitForState(page, name, 'ready');
    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(page.getByText('No instances yet.'));
    await page.context().close();
  });

  it("offers the allocator's parameters as a form, creates with the values chosen, and shows a refused one's 400", async () => {
    const page = await signedIn('pat@example.com');
    const form = page.getByRole('group', { name: 'Parameters of a new instance' });
    await expectVisible(form);
    const imageTag = form.getByRole('textbox', { name: 'imageTag' });
    expect(await imageTag.inputValue()).toBe('v1');
    expect(await imageTag.getAttribute('maxlength')).toBe('64');
    await expectVisible(form.getByText("The syncbased image tag to run, such as a pull request's build."));
    const logLevel = form.getByRole('combobox', { name: 'logLevel' });
    expect(await logLevel.inputValue()).toBe('info');
    expect(await logLevel.locator('option').allTextContents()).toEqual(['debug', 'info', 'warning']);

    // A value its rule refuses: the API's 400, naming the parameter, and no instance.
    await imageTag.fill('PR 5');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    await expectVisible(page.getByRole('alert').getByText(/parameter "imageTag" is "PR 5": it must be text matching/));
    expect(await page.getByRole('article').count()).toBe(0);

    await imageTag.fill('pr-5');
    await logLevel.selectOption('debug');
    await form.getByRole('textbox', { name: 'note' }).fill('a "quoted" {{Name}} ü');
    await page.screenshot({ path: `${ARTIFACTS}/parameters-form.png`, fullPage: true });
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    await waitForState(page, name, 'ready');
    expect(
      await page
        .getByRole('list', { name: `Parameters of ${name}` })
        .getByRole('listitem')
        .allTextContents(),
    ).toEqual(['imageTag=pr-5', 'logLevel=debug', 'note=a "quoted" {{Name}} ü']);
    const deployment = await stack.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: stack.namespace });
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:pr-5');
    expect(container?.env).toEqual([
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'NOTE', value: 'a "quoted" {{Name}} ü' },
    ]);
    await page.screenshot({ path: `${ARTIFACTS}/parameters-instance.png`, fullPage: true });

    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(page.getByText('No instances yet.'));
    await page.context().close();
  });

  it("waits out another operation's hold on the instance, then runs the person's", async () => {
    const page = await signedIn('lee@example.com');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const name = (await page.getByRole('article').first().getByRole('heading').textContent()) ?? '';
    await waitForState(page, name, 'ready');
    // Another operation holds it, as a suspend still writing its end does: the allocator answers 409 with Retry-After.
    const cluster = makeClusterClient({ kubeConfig: stack.kubeConfig, namespace: stack.namespace, timeoutMs: 10_000 });
    const record = await cluster.readRecord(name);
    if (!record) throw new Error(`no record of ${name}`);
    const deadline = new Date(Date.now() + 60_000).toISOString();
    await cluster.replaceRecord(
      {
        ...record,
        status: {
          ...record.status,
          phase: holdingPhase('restart', 'running'),
          operation: { kind: 'restart', holder: 'restart/another', deadline, from: 'running' },
        },
      },
      'status',
    );
    await page.getByRole('button', { name: `Suspend ${name}` }).click();
    await expectVisible(page.getByRole('status').getByText(/^Busy: a restart of .* is in progress.* Trying again in 5 s/));
    // The other operation ends: the page's next try runs the suspend.
    const held = await cluster.readRecord(name);
    if (!held) throw new Error(`no record of ${name}`);
    await cluster.replaceRecord({ ...held, status: record.status }, 'status');
    await waitForState(page, name, 'suspended');
    await expectVisible(page.getByRole('status').getByText(`${name} is suspended.`));
    expect(await page.getByRole('alert').isVisible()).toBe(false);
    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(page.getByText('No instances yet.'));
    await page.context().close();
  });

  it('works by keyboard and on a phone-width screen', async () => {
    const page = await signedIn('kim@example.com', { width: 375, height: 740 });
    for (let i = 0; i < 10; i += 1) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement?.textContent')) === 'Create an instance') break;
    }
    await page.keyboard.press('Enter');
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    await waitForState(page, name, 'ready');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/phone.png`, fullPage: true });
    expect(await seriousAccessibilityFindings(page)).toEqual([]);
    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(page.getByText('No instances yet.'));
    await page.context().close();
  });
});

describe('sharing and transfer on the dashboard', () => {
  async function createOn(page: Page): Promise<string> {
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    await waitForState(page, name, 'ready');
    return name;
  }

  it('two people sharing, an admin sharing for the owner, and a transfer seen by both', async () => {
    const ada = await signedIn('ada@example.com');
    const name = await createOn(ada);
    const card = ada.getByRole('article', { name });
    await card.getByLabel(`Share ${name} with`).fill('bea@example.com');
    await card.getByRole('button', { name: 'Share', exact: true }).click();
    await expectVisible(card.getByRole('list', { name: `Shared with, ${name}` }).getByText('bea@example.com'));
    await expectVisible(ada.getByRole('status').getByText(`${name} is shared with bea@example.com`));
    expect(await seriousAccessibilityFindings(ada)).toEqual([]);
    await ada.screenshot({ path: `${ARTIFACTS}/shared.png`, fullPage: true });

    // Bea sees it, marked as shared with her, and may extend it, but not destroy, share or transfer it.
    const bea = await signedIn('bea@example.com');
    const beaCard = bea.getByRole('article', { name });
    await expectVisible(beaCard.getByText('ada@example.com (shared with you)'));
    expect(await beaCard.getByRole('button', { name: `Destroy ${name}` }).count()).toBe(0);
    expect(await beaCard.getByRole('button', { name: `Transfer to… (${name})` }).count()).toBe(0);
    expect(await beaCard.getByLabel(`Share ${name} with`).count()).toBe(0);
    await beaCard.getByRole('button', { name: `Extend ${name}` }).click();
    await expectVisible(bea.getByRole('status').getByText(`${name} now expires`));

    // The admin may share it for its owner.
    const admin = await signedIn(ADMIN);
    await admin.getByLabel("Show everyone's").check();
    const adminCard = admin.getByRole('article', { name });
    await adminCard.getByLabel(`Share ${name} with`).fill('cy@example.com');
    await adminCard.getByRole('button', { name: 'Share', exact: true }).click();
    await expectVisible(adminCard.getByRole('list', { name: `Shared with, ${name}` }).getByText('cy@example.com'));
    await adminCard.getByRole('button', { name: `Remove cy@example.com from ${name}` }).click();
    await expectVisible(admin.getByRole('status').getByText(`${name} is shared with bea@example.com;`));

    // A transfer to someone at their limit (1 here) is refused in their words, and nothing changes.
    const cy = await signedIn('cy@example.com');
    const cys = await createOn(cy);
    await card.getByRole('button', { name: `Transfer to… (${name})` }).click();
    const dialog = ada.getByRole('dialog', { name: `Transfer ${name}` });
    await dialog.getByLabel("New owner's email").fill('cy@example.com');
    await ada.screenshot({ path: `${ARTIFACTS}/transfer.png` });
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    await expectVisible(ada.getByRole('alert').getByText(/^Limit reached: cy@example.com already has 1 instance/));

    // To Bea: Ada no longer sees it; Bea, signed in again, owns it.
    await card.getByRole('button', { name: `Transfer to… (${name})` }).click();
    await dialog.getByLabel("New owner's email").fill('bea@example.com');
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    await expectVisible(ada.getByRole('status').getByText(`${name} now belongs to bea@example.com.`));
    await expectVisible(ada.getByText('No instances yet.'));
    const beaAgain = await signedIn('bea@example.com');
    const owned = beaAgain.getByRole('article', { name });
    await expectVisible(owned.getByRole('button', { name: `Destroy ${name}` }));
    expect(await owned.getByText('(shared with you)').count()).toBe(0);

    await owned.getByRole('button', { name: `Destroy ${name}` }).click();
    await beaAgain.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(beaAgain.getByText('No instances yet.'));
    await cy.getByRole('button', { name: `Destroy ${cys}` }).click();
    await cy.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await expectVisible(cy.getByText('No instances yet.'));
    for (const page of [ada, bea, admin, cy, beaAgain]) await page.context().close();
  });
});
