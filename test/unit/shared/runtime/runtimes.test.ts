import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../shared/config/config-error.ts';
import { loadConfig } from '../../../../shared/config/load-config.ts';
import { executionContext, SWEEPER } from '../../../../shared/handlers/execution-context.ts';
import { loadCreateRuntime } from '../../../../shared/runtime/create-runtime.ts';
import { loadDestroyRuntime } from '../../../../shared/runtime/destroy-runtime.ts';
import { loadListRuntime } from '../../../../shared/runtime/list-runtime.ts';
import { PRECOMPILED_SUFFIX, precompiledTemplateModule, TemplateError } from '../../../../shared/template/deployment-template.ts';
import { makeTemplateData } from '../../../../shared/template/template-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'allocator-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A complete environment but for the template; building runtimes makes no call (clients come on first use). */
const env = {
  ALLOCATOR_SERVER_NAME: 'syncbased',
  ALLOCATOR_AUDIENCES: 'https://a.test',
  ALLOCATOR_KUBECONFIG: join(dir, 'kubeconfig'),
  ALLOCATOR_GCE_PROJECT: 'p',
  ALLOCATOR_GCE_ZONE: 'us-central1-c',
};

writeFileSync(
  join(dir, 'kubeconfig'),
  'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
);

describe('the runtimes each function starts with', () => {
  it("give destroy and the sweep the deletion timeout, not create's readiness wait", async () => {
    const runtime = loadDestroyRuntime({
      ...env,
      ALLOCATOR_WAIT_TIMEOUT_SECONDS: '5',
      ALLOCATOR_DELETE_TIMEOUT_SECONDS: '600',
      ALLOCATOR_DISK_RELEASE_TIMEOUT_SECONDS: '30',
    });
    expect((await executionContext(runtime, { caller: SWEEPER, report: () => undefined })).timeouts).toEqual({
      deleteMs: 600_000,
      diskReleaseMs: 30_000,
    });
  });

  it('list and destroy start without a template setting', () => {
    expect(Object.keys(loadListRuntime(env)).sort()).toEqual([
      'clock',
      'cluster',
      'config',
      'deploymentEvents',
      'instanceObjects',
      'podLogs',
      'verifier',
    ]);
    expect(Object.keys(loadDestroyRuntime(env)).sort()).toEqual([
      'background',
      'clock',
      'cluster',
      'config',
      'disks',
      'instanceObjects',
      'random',
      'verifier',
    ]);
    expect(loadConfig(env)).not.toHaveProperty('templatePath');
  });

  it('create compiles and renders its template at cold start', () => {
    const template = fileURLToPath(new URL('../../../../templates/syncbased-deployment.yaml.hbs', import.meta.url));
    const runtime = loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: template });
    expect(Object.keys(runtime).sort()).toEqual([
      'background',
      'clock',
      'cluster',
      'config',
      'disks',
      'instanceObjects',
      'random',
      'template',
      'verifier',
    ]);
    expect(runtime.template.format).toBe('yaml');
  });

  it('create refuses to start without a template, or with one that cannot make a Deployment', () => {
    expect(() => loadCreateRuntime(env)).toThrow(ConfigError);
    expect(() => loadCreateRuntime(env)).toThrow(/ALLOCATOR_TEMPLATE is required/);
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: join(dir, 'missing.json.hbs') })).toThrow(
      /cannot read .*missing.json.hbs \(ENOENT\)/,
    );
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: join(dir, 'missing.json.hbs') })).toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
    const broken = join(dir, 'broken.json.hbs');
    writeFileSync(broken, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"{{Name}}"}}');
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: broken })).toThrow(TemplateError);
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: broken })).toThrow(/broken.json.hbs: spec is missing/);
  });

  it('create takes the compilation the bundle put beside its template, and says so when it cannot load it', () => {
    const template = join(dir, 'shipped.json.hbs');
    const source = readFileSync(fileURLToPath(new URL('../../../../templates/syncbased-deployment.json.hbs', import.meta.url)), 'utf8');
    writeFileSync(template, source);
    // A compilation of the source with another label: taken, since it names this source's hash.
    writeFileSync(
      `${template}${PRECOMPILED_SUFFIX}`,
      precompiledTemplateModule(source.replace('"ownerHash"', '"fromCompilation"')).replace(
        /sha256: "\w+"/,
        `sha256: "${createHash('sha256').update(source).digest('hex')}"`,
      ),
    );
    const rendered = loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: template }).template.render(
      makeTemplateData({
        name: 'syncbased-1',
        accessList: [],
        mountName: 'm',
        ownerHash: 'h',
        version: 'v',
        creatorInfo: { email: 'a@example.com', mountName: 'm', createdAt: '2026-11-28T00:00:00.000Z', allocator: 'syncbased' },
      }),
    );
    expect(rendered.metadata?.labels).toEqual({ fromCompilation: 'h' });
    const damaged = join(dir, 'damaged.json.hbs');
    writeFileSync(damaged, source);
    writeFileSync(`${damaged}${PRECOMPILED_SUFFIX}`, 'module.exports = {');
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: damaged })).toThrow(ConfigError);
    expect(() => loadCreateRuntime({ ...env, ALLOCATOR_TEMPLATE: damaged })).toThrow(
      /damaged.json.hbs.precompiled.cjs, the template's compilation that npm run bundle made .*; bundle again/,
    );
  });
});
