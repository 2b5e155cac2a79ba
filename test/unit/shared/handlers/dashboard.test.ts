import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy, dashboardSettings, makeDashboardHandler } from '../../../../shared/handlers/dashboard.ts';

const dashboard = {
  clientId: 'dash.apps.googleusercontent.com',
  allocator: 'https://us-central1-p.cloudfunctions.net/syncbase',
  signInScript: 'https://accounts.google.com/gsi/client',
  origins: ['https://us-central1-p.cloudfunctions.net'],
};
const dir = mkdtempSync(join(tmpdir(), 'allocator-dashboard-'));
let url = '';
let server: ReturnType<typeof getTestServer>;

beforeAll(async () => {
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'export {};');
  const name = `d-${randomBytes(4).toString('hex')}`;
  http(name, makeDashboardHandler({ dir, dashboard, log: () => undefined }));
  server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("the dashboard's files", () => {
  it('serves the page with a CSP that allows only itself, the sign-in script and the allocator', async () => {
    const response = await fetch(`${url}/dashboard/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(contentSecurityPolicy(dashboard));
    expect(contentSecurityPolicy(dashboard)).toContain("script-src 'self' https://accounts.google.com;");
    expect(contentSecurityPolicy(dashboard)).toContain(
      "connect-src 'self' https://us-central1-p.cloudfunctions.net https://accounts.google.com;",
    );
    expect(await response.text()).toBe('<!doctype html><title>t</title>');
  });

  it('tells the page where to sign in and what to call, and nothing secret', async () => {
    const response = await fetch(`${url}/dashboard/config.json`);
    expect(await response.json()).toEqual(dashboardSettings(dashboard));
    expect(dashboardSettings(dashboard)).toEqual({
      clientId: 'dash.apps.googleusercontent.com',
      signInScript: 'https://accounts.google.com/gsi/client',
      operations: {
        list: { url: `${dashboard.allocator}-list`, method: 'GET' },
        create: { url: `${dashboard.allocator}-create`, method: 'POST' },
        extend: { url: `${dashboard.allocator}-create/extend`, method: 'POST' },
        resume: { url: `${dashboard.allocator}-create/resume`, method: 'POST' },
        suspend: { url: `${dashboard.allocator}-destroy/suspend`, method: 'POST' },
        restart: { url: `${dashboard.allocator}-create/restart`, method: 'POST' },
        reset: { url: `${dashboard.allocator}-destroy/reset`, method: 'POST' },
        destroy: { url: `${dashboard.allocator}-destroy`, method: 'POST' },
        share: { url: `${dashboard.allocator}-create/share`, method: 'POST' },
        unshare: { url: `${dashboard.allocator}-create/unshare`, method: 'POST' },
        transfer: { url: `${dashboard.allocator}-create/transfer`, method: 'POST' },
        destroyed: { url: `${dashboard.allocator}-list/destroyed`, method: 'GET' },
        restore: { url: `${dashboard.allocator}-create/restore`, method: 'POST' },
        logs: { url: `${dashboard.allocator}-list/logs`, method: 'GET' },
        events: { url: `${dashboard.allocator}-list/events`, method: 'GET' },
        watch: { url: `${dashboard.allocator}-list/watch`, method: 'GET' },
      },
    });
  });

  it.each([
    ['/dashboard', 'GET', 301],
    ['/dashboard/app.js', 'GET', 200],
    ['/dashboard/app.css', 'GET', 500], // listed but missing from this directory
    ['/dashboard/../secret', 'GET', 404],
    ['/dashboard/other.js', 'GET', 404],
    ['/dashboard/', 'POST', 405],
  ])('%s by %s: %i', async (path, method, status) => {
    const response = await fetch(`${url}${path}`, { method, redirect: 'manual' });
    expect(response.status).toBe(status);
    if (status === 301) expect(response.headers.get('location')).toBe('dashboard/');
  });

  it.each([
    [
      '/dashboard/',
      'POST',
      { allow: 'GET, HEAD' },
      { code: 405, status: 'METHOD_NOT_ALLOWED', message: 'method POST is not allowed; use GET or HEAD' },
    ],
    [
      '/dashboard/app.js',
      'DELETE',
      { allow: 'GET, HEAD' },
      { code: 405, status: 'METHOD_NOT_ALLOWED', message: 'method DELETE is not allowed; use GET or HEAD' },
    ],
    ['/dashboard/other.js', 'GET', { allow: null }, { code: 404, status: 'NOT_FOUND', message: 'no such file /dashboard/other.js' }],
    ['/dashboard/app.css', 'GET', { allow: null }, { code: 500, status: 'INTERNAL', message: 'internal error; see the function logs' }],
  ])('answers %s by %s with the Google API error body', async (path, method, headers, error) => {
    const response = await fetch(`${url}${path}`, { method });
    expect(response.status).toBe(error.code);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('allow')).toBe(headers.allow);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.json()).toEqual({ error });
  });
});
