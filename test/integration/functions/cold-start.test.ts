import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFunctionProcess } from '../../harness/function-process.ts';
import { waitUntil } from '../../harness/processes.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'coldstart' });
});
afterAll(async () => stack?.stop());

/**
 * Loads a function's entry file in a fresh Node process, serves one request
 * through the framework's test server, and reports which heavy packages were
 * loaded (CommonJS packages imported from ESM land in require.cache).
 */
async function packagesLoadedBy(name: 'create' | 'list', request: { method: string; body?: string }, token: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(`${ROOT}functions/${name}/index.ts`)});
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    const server = getTestServer(${JSON.stringify(name)});
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const response = await fetch('http://127.0.0.1:' + server.address().port + '/', { method: ${JSON.stringify(request.method)}, headers: { authorization: 'Bearer ${token}' }${request.body ? `, body: ${JSON.stringify(request.body)}` : ''} });
    server.close();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({ status: response.status, packages: ['@google-cloud/compute', 'google-gax', '@kubernetes/client-node'].filter((p) => loaded.some((file) => file.includes('/node_modules/' + p + '/'))) }));
    process.exit(0);
  `;
  // Asynchronous: the child needs this process's token issuer and disks emulator to answer.
  const { stdout: output } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env },
  });
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { status: number; packages: string[] };
  expect(result.status).toBeLessThan(300);
  return result.packages;
}

describe('what each function loads', () => {
  it('list serves a request without ever loading the compute client', async () => {
    expect(await packagesLoadedBy('list', { method: 'GET' }, stack.tokenFor('ivy@example.com'))).toEqual(['@kubernetes/client-node']);
  });

  it('create loads it on its first request (so the check above can see it)', async () => {
    expect(await packagesLoadedBy('create', { method: 'POST', body: '{"wait": false}' }, stack.tokenFor('ivy@example.com'))).toEqual([
      '@google-cloud/compute',
      'google-gax',
      '@kubernetes/client-node',
    ]);
  });
});

describe('warming up', () => {
  it("fetches Google's certificates at cold start, before any request", async () => {
    const before = stack.issuer.certFetches;
    const logDir = mkdtempSync(join(tmpdir(), 'allocator-warm-'));
    const list = await startFunctionProcess({ name: 'list', env: stack.env, logFile: join(logDir, 'list.log') });
    try {
      // Only the framework's OPTIONS probe has reached it, which needs no token.
      await waitUntil(async () => stack.issuer.certFetches > before, {
        timeoutMs: 10_000,
        what: 'the list function to fetch the certificates',
        describe: () => list.process.logTail(),
      });
    } finally {
      await list.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
