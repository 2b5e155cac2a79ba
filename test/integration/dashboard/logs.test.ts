import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeListHandler } from '../../../shared/handlers/list-handler.ts';
import { LABELS } from '../../../shared/instances/metadata.ts';
import { closeServer, listenOnLoopback } from '../../harness/http.ts';
import { launchChromium } from '../../harness/browser.ts';
import { dashboardSettings, signIn } from './sign-in.ts';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { attachPodLog, criLogLine, writePodLog } from '../../harness/pod-logs.ts';
import { eventually } from '../support.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/dashboard/', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let stack: TestStack;
let browser: Browser;
let pageGateway: Gateway;
let apiGateway: Gateway;
let dashboardUrl = '';
let dir: string;
let shortFollow: { url: string; stop: () => Promise<void> } | undefined;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'allocator-dashboard-logs-'));
  [pageGateway, apiGateway] = await Promise.all([startGateway(), startGateway()]);
  stack = await startTestStack({
    prefix: 'dashboard-logs',
    overrides: ({ issuer }) => ({
      ...dashboardSettings({
        issuerUrl: issuer.url,
        allocator: apiGateway.allocatorFor('syncbase'),
        pageOrigin: new URL(pageGateway.allocatorFor('syncbase')).origin,
      }),
    }),
  });
  // The page's calls reach a list function whose follows end after 1.5 s: the view resumes several times in a test.
  http('list-dashboard-short-follow', makeListHandler({ runtime: { ...stack.runtime, followLimitMs: 1_500 }, log: () => undefined }));
  const server = getTestServer('list-dashboard-short-follow');
  shortFollow = { url: await listenOnLoopback(server), stop: () => closeServer(server) };
  for (const name of ['create', 'destroy', 'list'] as const) {
    pageGateway.route(`/syncbase-${name}`, stack.urls[name]);
    apiGateway.route(`/syncbase-${name}`, name === 'list' ? shortFollow.url : stack.urls[name]);
  }
  dashboardUrl = `${pageGateway.allocatorFor('syncbase')}-list/dashboard/`;
  browser = await launchChromium();
});
const signedIn = (email: string): Promise<Page> => signIn(browser, dashboardUrl, email);

afterAll(async () => {
  await browser?.close();
  await Promise.all([pageGateway?.stop(), apiGateway?.stop()]);
  await shortFollow?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the dashboard's logs view", () => {
  it("follows an instance's logs live, across the list's refreshes and the stream's ends, each line once", async () => {
    const page = await signedIn('lia@example.com');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    await article.locator('.state-ready').waitFor({ timeout: 60_000 });

    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const pod = await eventually(
      async () =>
        (await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` })).items[0]?.metadata
          ?.name,
    );
    const file = join(dir, 'pod.log');
    writePodLog(file, [criLogLine(new Date(), 'syncbased: listening on :8101')], { fresh: true });
    await attachPodLog(stack.kubeConfig, { namespace: stack.namespace, pod, file });
    const token = stack.tokenFor('lia@example.com');
    await eventually(async () => {
      const response = await fetch(`${stack.urls.list}/logs?name=${name}`, { headers: { authorization: `Bearer ${token}` } });
      return (await response.text()).includes('listening on :8101');
    });

    await page.getByRole('button', { name: `Logs of ${name}` }).click();
    const view = page.getByRole('region', { name: `Logs of ${name}` });
    const lines = view.getByLabel('Log lines');
    await lines.getByText('syncbased: listening on :8101').waitFor();
    await view.getByRole('status').getByText('Following…').waitFor();

    // Lines the pod writes now appear without a reload, one each, while the list refreshes around the view.
    writePodLog(file, [criLogLine(new Date(), 'served request 1')]);
    await lines.getByText('served request 1', { exact: true }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: `Extend ${name}` }).click();
    writePodLog(file, [criLogLine(new Date(), 'served request 2')]);
    await lines.getByText('served request 2', { exact: true }).waitFor({ timeout: 10_000 });
    // The pod writes for 4 s, across at least two of the list function's 1.5 s streams.
    const more = Array.from({ length: 40 }, (_, n) => `served request ${n + 3}`);
    for (const text of more) {
      writePodLog(file, [criLogLine(new Date(), text)]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await lines.getByText('served request 42', { exact: true }).waitFor({ timeout: 10_000 });
    expect((await lines.textContent())?.split('\n').filter(Boolean)).toEqual([
      'syncbased: listening on :8101',
      'served request 1',
      'served request 2',
      ...more,
    ]);
    await page.screenshot({ path: `${ARTIFACTS}/logs.png`, fullPage: true });
    await page.evaluate(readFileSync(AXE, 'utf8'));
    const results = (await page.evaluate('axe.run()')) as { violations: { id: string; impact: string }[] };
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

    await view.getByRole('button', { name: 'Close' }).click();
    expect(await view.isVisible()).toBe(false);
    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await page.getByText('No instances yet.').waitFor();
    await page.context().close();
  });
});

describe("the dashboard's events view", () => {
  it('shows what Kubernetes reported about an instance in plain words, a warning marked and counted once Refresh reads it', async () => {
    const page = await signedIn('ivo@example.com');
    await page.getByRole('button', { name: 'Create an instance' }).click();
    const article = page.getByRole('article').first();
    await article.waitFor();
    const name = (await article.getByRole('heading').textContent()) ?? '';
    await article.locator('.state-ready').waitFor({ timeout: 60_000 });
    // The view reads the events once, when opened: the scheduler's may come a moment after the pod is ready.
    const token = stack.tokenFor('ivo@example.com');
    await eventually(
      async () => {
        const response = await fetch(`${stack.urls.list}/events?name=${name}`, { headers: { authorization: `Bearer ${token}` } });
        const { events } = (await response.json()) as { events: { reason: string }[] };
        return events.some((event) => event.reason === 'Scheduled');
      },
      30_000,
      "the scheduler's event",
    );

    await page.getByRole('button', { name: `Events of ${name}` }).click();
    const view = page.getByRole('region', { name: `Events of ${name}` });
    const events = view.getByRole('list', { name: 'Events' });
    await events.getByText(/^Placed on node kwok-node-\d$/).waitFor({ timeout: 10_000 });
    expect((await events.getByRole('listitem').allTextContents()).slice(0, 3)).toEqual([
      expect.stringMatching(/instanceScaled up to 1 pod$/),
      expect.stringMatching(/instanceMade a new pod$/),
      expect.stringMatching(/podPlaced on node kwok-node-\d$/),
    ]);

    // A kubelet's report about the pod, as it writes one; Refresh reads it.
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    const pod = await eventually(
      async () => (await core.listNamespacedPod({ namespace: stack.namespace, labelSelector: `${LABELS.instance}=${name}` })).items[0],
    );
    await core.createNamespacedEvent({
      namespace: stack.namespace,
      body: {
        metadata: { name: `${pod.metadata?.name}.backoff`, namespace: stack.namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: pod.metadata?.name ?? '',
          namespace: stack.namespace,
          uid: pod.metadata?.uid ?? '',
        },
        reason: 'BackOff',
        type: 'Warning',
        message: `Back-off restarting failed container syncbased in pod ${pod.metadata?.name}_${stack.namespace}(${pod.metadata?.uid})`,
        count: 5,
        firstTimestamp: new Date(Date.now() - 60_000),
        lastTimestamp: new Date(),
        source: { component: 'kubelet', host: pod.spec?.nodeName ?? '' },
      },
    });
    await view.getByRole('button', { name: 'Refresh' }).click();
    const warning = events.getByRole('listitem').filter({ hasText: 'keeps crashing' });
    await warning.waitFor({ timeout: 10_000 });
    expect(await warning.textContent()).toMatch(
      /podWarning: Its container syncbased keeps crashing; waiting before starting it again5 times since /,
    );
    await page.screenshot({ path: `${ARTIFACTS}/events.png`, fullPage: true });
    await page.evaluate(readFileSync(AXE, 'utf8'));
    const results = (await page.evaluate('axe.run()')) as { violations: { id: string; impact: string }[] };
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

    await view.getByRole('button', { name: 'Close' }).click();
    expect(await view.isVisible()).toBe(false);
    await page.getByRole('button', { name: `Destroy ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Destroy' }).click();
    await page.getByText('No instances yet.').waitFor();
    await page.context().close();
  });
});
