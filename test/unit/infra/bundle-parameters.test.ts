import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctions } from '../../../infra/bundle.ts';
import { ConfigError } from '../../../shared/config/config-error.ts';

const TEMPLATE = fileURLToPath(new URL('../../../templates/syncbased-deployment.json.hbs', import.meta.url));

describe('npm run bundle -- --parameters', () => {
  const work = mkdtempSync(join(tmpdir(), 'allocator-bundle-parameters-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('stops on a malformed declaration before it builds anything, naming the parameter', async () => {
    const broken = join(work, 'parameters.yaml');
    writeFileSync(broken, 'imageTag:\n  description: The tag.\n  default: v1\n  pattern: "[a-z]+"\n  maxLength: 64\n');
    const out = join(work, 'out');
    const bundling = bundleFunctions({ outDir: out, template: TEMPLATE, parameters: broken });
    await expect(bundling).rejects.toThrow(ConfigError);
    await expect(bundling).rejects.toThrow(
      /ALLOCATOR_PARAMETERS: .*parameters\.yaml: imageTag\.pattern must start with \^ and end with \$/,
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
