import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadParameterDeclarations } from '../../../shared/config/parameters.ts';
import { parametersNote, templateImages } from '../../../infra/template-images.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = `${ROOT}test/fixtures/templates/`;
const IMAGE = 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased';

describe('the build\u2019s image check (npm run template-images)', () => {
  it('renders a template with parameters at their defaults', () => {
    const parameters = loadParameterDeclarations(`${FIXTURES}parameters.yaml`);
    expect(templateImages(`${FIXTURES}parameters.json.hbs`, 'v9', parameters)).toEqual([`${IMAGE}:v1`]);
    expect(parametersNote(parameters)).toMatch(
      /^images rendered with each parameter at its default \(imageTag="v1", logLevel="info", note=""\); an image another value names is checked only at create/,
    );
    expect(parametersNote([])).toBeUndefined();
  });

  it('prints the images on stdout and the note on stderr, and fails on a template using an undeclared parameter', () => {
    const script = `${ROOT}infra/template-images.ts`;
    const ran = spawnSync(process.execPath, [script, `${FIXTURES}parameters.json.hbs`, 'v9', `${FIXTURES}parameters.yaml`], {
      encoding: 'utf8',
    });
    expect(ran.status).toBe(0);
    expect(ran.stdout).toBe(`${IMAGE}:v1\n`);
    expect(ran.stderr).toMatch(/checked only at create/);
    // The build passes an empty third argument when _PARAMETERS is empty.
    expect(execFileSync(process.execPath, [script, `${ROOT}templates/syncbased-deployment.json.hbs`, 'v9', ''], { encoding: 'utf8' })).toBe(
      `${IMAGE}:v9\n`,
    );
    const undeclared = spawnSync(process.execPath, [script, `${FIXTURES}parameters.json.hbs`, 'v9', ''], { encoding: 'utf8' });
    expect(undeclared.status).toBe(1);
    expect(undeclared.stderr).toMatch(/uses \{\{imageTag\}\}, which is not a template field \(nor, as \{\{Parameters\.imageTag\}\}/);
  });
});
