import type { Browser, Page } from 'playwright-core';

/**
 * The dashboard's settings on a test stack: the local issuer's sign-in
 * script, the allocator the page calls, and, where the page is served from
 * another gateway than the one it calls, its origin for CORS.
 */
export function dashboardSettings(options: { issuerUrl: string; allocator: string; pageOrigin?: string }): Record<string, string> {
  return {
    ALLOCATOR_DASHBOARD_CLIENT_ID: 'test-dashboard.apps.googleusercontent.com',
    ALLOCATOR_DASHBOARD_ALLOCATOR: options.allocator,
    ALLOCATOR_DASHBOARD_SIGN_IN_SCRIPT: `${options.issuerUrl}/gsi/client`,
    ...(options.pageOrigin ? { ALLOCATOR_DASHBOARD_ORIGINS: options.pageOrigin } : {}),
  };
}

/**
 * A new browser context at the dashboard, signed in as `email` through the
 * local sign-in, once the page shows the person's instances. `beforeLoad`
 * sees the page before it loads (to count its requests from the first).
 */
export async function signIn(
  browser: Browser,
  dashboardUrl: string,
  email: string,
  options: { viewport?: { width: number; height: number }; clipboard?: boolean; beforeLoad?: (page: Page) => void } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1100, height: 900 } });
  if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(dashboardUrl).origin });
  const page = await context.newPage();
  options.beforeLoad?.(page);
  await page.goto(dashboardUrl);
  await page.getByLabel('Sign in as (local)').fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your instances' }).waitFor({ timeout: 30_000 });
  return page;
}
