import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../harness/gateway.ts';
import { startTestStack, type TestStack } from '../stack.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const POSTGRES = fileURLToPath(new URL('../../../templates/postgres.yaml.hbs', import.meta.url));
const POSTGRES_PARAMETERS = fileURLToPath(new URL('../../../templates/postgres-parameters.yaml', import.meta.url));

let gateway: Gateway;
let stack: TestStack;
let dir: string;
beforeAll(async () => {
  gateway = await startGateway();
  // The PostgreSQL sample: its instances have an endpoint for the generated client to read.
  stack = await startTestStack({
    prefix: 'generated',
    overrides: {
      ALLOCATOR_URL: gateway.allocatorFor('allocator'),
      ALLOCATOR_TEMPLATE: POSTGRES,
      ALLOCATOR_PARAMETERS: POSTGRES_PARAMETERS,
    },
  });
  for (const fn of ['create', 'destroy', 'list'] as const) gateway.route(`/allocator-${fn}`, stack.urls[fn]);
  // Inside the checkout, so that the program finds openapi-fetch in its node_modules.
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'test-artifacts', 'generated-client-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack?.stop();
  await gateway?.stop();
});

describe('a client generated from /openapi.json by openapi-typescript', () => {
  it('type-checks, and runs create, list (reading the endpoints), extend and destroy against the local stack', async () => {
    const described = await fetch(`${gateway.url}/allocator-list/openapi.json`);
    expect(described.status).toBe(200);
    const document = (await described.json()) as { servers: { url: string }[] };
    expect(document.servers).toEqual([{ url: gateway.url }]);

    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
    writeFileSync(join(dir, 'schema.ts'), astToString(await openapiTS(new URL(`file://${join(dir, 'openapi.json')}`))));
    copyFileSync(fileURLToPath(new URL('../../fixtures/generated-client/main.ts', import.meta.url)), join(dir, 'main.ts'));

    // Built: the program must type-check against the generated types.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--target',
      'es2023',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
    ];
    await run(process.execPath, [
      tsc,
      ...flags,
      '--allowImportingTsExtensions',
      '--types',
      'node',
      '--typeRoots',
      join(ROOT, 'node_modules', '@types'),
      join(dir, 'main.ts'),
    ]);

    const { stdout } = await run(process.execPath, [join(dir, 'main.ts')], {
      env: {
        ...process.env,
        ALLOCATOR_SERVER: document.servers[0]?.url ?? '',
        OWNER_TOKEN: stack.tokenFor('gen@example.com'),
        STRANGER_TOKEN: stack.tokenFor('eve@example.com'),
      },
    });
    const result = JSON.parse(stdout) as {
      created: { status: number; name: string; state: string };
      listed: string[];
      endpoints: { name: string; protocol: string; address: string }[];
      createdEndpoints: number;
      extended: { expiresAt: string };
      refused: { status: number; refusal: string };
      destroyed: { name: string; destroyed: boolean };
      after: number;
    };
    expect(result.created).toEqual({ status: 201, name: expect.stringMatching(/^syncbased-[0-9a-f]{8}$/), state: 'ready' });
    expect(result.listed).toEqual([result.created.name]);
    expect(result.endpoints).toEqual([
      { name: 'postgres', protocol: 'TCP', address: `${result.created.name}.${stack.namespace}.svc.cluster.local:5432` },
    ]);
    expect(result.createdEndpoints).toBe(1);
    expect(Date.parse(result.extended.expiresAt) - Date.now()).toBeGreaterThan(500_000);
    expect(Date.parse(result.extended.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    expect(result.refused).toEqual({ status: 404, refusal: 'NOT_FOUND' });
    expect(result.destroyed).toEqual({ name: result.created.name, destroyed: true });
    expect(result.after).toBe(0);
  });
});
