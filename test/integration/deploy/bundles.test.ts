import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunctions, PARAMETERS_FILE, type BundleResult } from '../../../infra/bundle.ts';
import { parameterDeclarationsOf } from '../../../shared/api/parameters.ts';
import { loadParameterDeclarations } from '../../../shared/config/parameters.ts';
import { installAsBuildpackWould } from '../../harness/buildpack-install.ts';
import { getFreePort } from '../../harness/ports.ts';
import { startProcess, waitUntil, type ManagedProcess } from '../../harness/processes.ts';
import { call, startTestStack, type TestStack } from '../stack.ts';

const run = promisify(execFile);
const TEMPLATE = fileURLToPath(new URL('../../../templates/syncbased-deployment.json.hbs', import.meta.url));
/** Declared in YAML; each bundle carries them as parameters.json, which ALLOCATOR_PARAMETERS names (cloudbuild.yaml). */
const PARAMETERS = fileURLToPath(new URL('../../fixtures/templates/parameters.yaml', import.meta.url));
let stack: TestStack;
let work: string;
let bundles: BundleResult[];
const processes: ManagedProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'bundles' });
  work = mkdtempSync(join(tmpdir(), 'allocator-bundles-'));
  bundles = await bundleFunctions({ outDir: join(work, 'built'), template: TEMPLATE, parameters: PARAMETERS });
}, 300_000);
afterAll(async () => {
  for (const child of processes) await child.stop();
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Copies one bundle alone to a fresh directory, installs its runtime dependencies there and runs its gcp-build script, as Cloud Run's Node.js buildpack would. */
async function installAlone(name: string): Promise<string> {
  const bundle = bundles.find((b) => b.name === name)!;
  const dir = join(work, `deployed-${name}`);
  cpSync(bundle.dir, dir, { recursive: true });
  await installAsBuildpackWould(dir);
  return dir;
}

/** Starts functions-framework from the bundle directory, with only its own node_modules. */
async function serveFrom(dir: string, name: string): Promise<string> {
  // Only create is given a template setting, as cloudbuild.yaml deploys them.
  const { ALLOCATOR_TEMPLATE: _unused, ...env } = stack.env;
  const port = await getFreePort();
  const child = startProcess({
    name: `bundle-${name}`,
    command: process.execPath,
    args: [join(dir, 'node_modules/@google-cloud/functions-framework/build/src/main.js'), `--target=${name}`, `--port=${port}`],
    logFile: join(work, `${name}.log`),
    // Node says which compiled code it took from the cache.
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      NODE_DEBUG_NATIVE: 'COMPILE_CACHE',
      ...env,
      ALLOCATOR_PARAMETERS: PARAMETERS_FILE,
      ...(name === 'create' ? { ALLOCATOR_TEMPLATE: 'templates/syncbased-deployment.json.hbs' } : {}),
    },
    cwd: dir,
  });
  processes.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url, { method: 'OPTIONS' })).status > 0, {
    timeoutMs: 30_000,
    what: `the ${name} bundle to serve`,
    describe: () => child.logTail(),
  });
  return url;
}

describe('per-function bundles', () => {
  it('each carry only the packages their code imports; list has no compute client', () => {
    const byName = Object.fromEntries(bundles.map((b) => [b.name, Object.keys(b.dependencies)]));
    // client-node, google-auth-library and compute's clients with the google-gax they use are bundled (tree-shaken);
    // what stays installed is the framework, and the template engine's compiler for create.
    expect(byName.list).toEqual(['@google-cloud/functions-framework']);
    expect(byName.create).toEqual(['@google-cloud/functions-framework', 'handlebars']);
    // Destroy renders no template, so it carries no template engine either.
    expect(byName.destroy).toEqual(['@google-cloud/functions-framework']);
    // Compute's disk clients are bundled too, with their protos cut: the whole protos.json alone is 12 MB.
    for (const bundle of bundles) expect(bundle.bytes).toBeLessThan(6 * 1024 * 1024);
  });

  it("require Node's modules and the installed packages rather than import them", () => {
    for (const bundle of bundles) expect(bundle.esImports).toEqual([]);
  });

  it("give compute's clients google-gax in REST mode only: no gRPC, one google-auth-library", () => {
    for (const name of ['create', 'destroy']) {
      const { modules } = bundles.find((b) => b.name === name)!;
      expect(modules).toContain('node_modules/google-gax/build/src/fallback.js');
      expect(modules).toContain('node_modules/google-gax/build/src/util.js'); // decodeAnyProtosInArray, for a failed call's details
      expect(modules.filter((path) => /^node_modules\/(@grpc\/|google-gax\/build\/src\/(index|grpc)\.js)/.test(path))).toEqual([]);
      expect(modules).toContain('node_modules/google-auth-library/build/src/auth/oauth2client.js');
    }
  });

  it('leave out the parts of client-node no function uses, and keep its polyfill', () => {
    for (const bundle of bundles) {
      const { modules } = bundle;
      expect(modules).toContain('node_modules/@kubernetes/client-node/dist/polyfill.js');
      expect(modules).toContain('node_modules/@kubernetes/client-node/dist/watch.js');
      for (const unused of ['exec.js', 'attach.js', 'cp.js', 'portforward.js', 'metrics.js'])
        expect(modules).not.toContain(`node_modules/@kubernetes/client-node/dist/${unused}`);
      expect(modules.filter((path) => /^node_modules\/(ws|tar-fs|tar-stream)\//.test(path))).toEqual([]);
      // Of undici, what client-node takes (Agent, ProxyAgent, fetch), not its mocks, caches, WebSocket or EventSource.
      expect(modules).toContain('node_modules/undici/lib/web/fetch/index.js');
      expect(modules).toContain('node_modules/undici/lib/dispatcher/proxy-agent.js');
      expect(
        modules.filter((path) => /^node_modules\/undici\/(index\.js|lib\/(mock|cache|web\/websocket|web\/eventsource)\/)/.test(path)),
      ).toEqual([]);
    }
  });

  it('serve create, list and destroy from their own directories against the local stack', async () => {
    const [createDir, listDir, destroyDir] = await Promise.all([installAlone('create'), installAlone('list'), installAlone('destroy')]);
    const { stdout } = await run('npm', ['ls', '--all', '--omit=dev', '--parseable'], { cwd: listDir });
    expect(stdout).not.toMatch(/google-gax|@google-cloud\/compute/);
    expect(existsSync(join(createDir, 'node_modules/google-gax'))).toBe(false);
    expect(existsSync(join(createDir, 'node_modules/@google-cloud/compute'))).toBe(false);
    expect(existsSync(join(createDir, 'templates'))).toBe(true);
    expect(existsSync(join(destroyDir, 'templates'))).toBe(false);
    expect(existsSync(join(listDir, 'templates'))).toBe(false);

    const [createUrl, listUrl, destroyUrl] = await Promise.all([
      serveFrom(createDir, 'create'),
      serveFrom(listDir, 'list'),
      serveFrom(destroyDir, 'destroy'),
    ]);
    const token = stack.tokenFor('vic@example.com');
    // The declarations travel as JSON in every bundle: list describes them, create takes them.
    for (const dir of [createDir, listDir, destroyDir]) expect(existsSync(join(dir, PARAMETERS_FILE))).toBe(true);
    const described = parameterDeclarationsOf(await (await fetch(`${listUrl}/openapi.json`)).json());
    expect(described).toEqual(loadParameterDeclarations(PARAMETERS));
    const created = await call<{ name: string; parameters: Record<string, string> }>(createUrl, {
      token,
      body: { parameters: { logLevel: 'debug' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.parameters).toEqual({ imageTag: 'v1', logLevel: 'debug', note: '' });
    const listed = await call<{ instances: { name: string }[] }>(listUrl, { token, method: 'GET' });
    expect(listed.body.instances.map((i) => i.name)).toEqual([created.body.name]);
    const malformed = await call(createUrl, { token, rawBody: '{' });
    expect(malformed.status).toBe(400); // the framework-error shim works from the bundle too
    expect((await call(destroyUrl, { token, body: { name: created.body.name } })).status).toBe(200);
    expect((await call<{ instances: unknown[] }>(listUrl, { token, method: 'GET' })).body.instances).toEqual([]);
    expect(stack.emulator.disks()).toEqual([]);

    // Each started from the code its build compiled.
    for (const [name, dir] of [
      ['create', createDir],
      ['list', listDir],
      ['destroy', destroyDir],
    ] as const) {
      const log = readFileSync(join(work, `${name}.log`), 'utf8');
      expect(log).toContain(`cache for ${pathToFileURL(join(dir, 'index.js')).href} was accepted`);
    }
    // Create took its template's compilation from the bundle: Handlebars' runtime was loaded, not its compiler.
    const createLog = readFileSync(join(work, 'create.log'), 'utf8');
    expect(createLog).toContain(join(createDir, 'node_modules/handlebars/dist/cjs/handlebars.runtime.js'));
    expect(createLog).not.toContain(join(createDir, 'node_modules/handlebars/dist/cjs/handlebars/compiler/'));
  });
});
