import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveParameters, type ParameterDeclaration } from '../../../../shared/api/parameters.ts';
import { loadParameterDeclarations } from '../../../../shared/config/parameters.ts';
import { ANNOTATIONS, instanceParameters } from '../../../../shared/instances/metadata.ts';
import { accessPatch } from '../../../../shared/plans/access-plan.ts';
import { buildInstanceDeployment, checkTemplate, parametersToRenderAgain } from '../../../../shared/plans/deployment.ts';
import { compileDeploymentTemplate, TemplateError } from '../../../../shared/template/deployment-template.ts';

const FIXTURES = new URL('../../../fixtures/templates/', import.meta.url);
const JSON_TEMPLATE = fileURLToPath(new URL('parameters.json.hbs', FIXTURES));
const DECLARATIONS = loadParameterDeclarations(fileURLToPath(new URL('parameters.yaml', FIXTURES)));

const YAML_TEMPLATE = fileURLToPath(new URL('parameters-deployment.yaml.hbs', FIXTURES));

const templates = {
  JSON: compileDeploymentTemplate(readFileSync(JSON_TEMPLATE, 'utf8'), { format: 'json', source: JSON_TEMPLATE }),
  YAML: compileDeploymentTemplate(readFileSync(YAML_TEMPLATE, 'utf8'), { format: 'yaml', source: YAML_TEMPLATE }),
};

const inputs = {
  serverName: 'syncbased',
  name: 'syncbased-1a2b3c4d',
  diskZone: 'us-central1-c',
  ownerEmail: 'ada@example.com',
  ownerSubject: '1',
  admins: [],
  accessListFormat: '{email}',
  mountRoot: '/ns',
  version: 'v1',
  createdAt: '2026-11-25T00:00:00.000Z',
};

/** Values the fixture's permissive `note` (^[\s\S]*$, 200 characters) lets through: JSON, YAML and template syntax. */
const HOSTILE = [
  'o"brien',
  'back\\slash\\"',
  '{brace}}}{{Name}}',
  'new\nline\r\ttab',
  'uni\u2028code-ü-日本-😀',
  '"},{"name":"evil","image":"evil"}],"x":[{"a":"',
  '"\n        - name: evil\n          image: evil\n#',
  "'single' & <html> $(id) `id`",
  '',
];

describe('parameters in a template', () => {
  it.each(HOSTILE.flatMap((value) => (['JSON', 'YAML'] as const).map((format) => [format, value] as const)))(
    'stay one value in a %s template: %j',
    (format, note) => {
      // Built directly: the API refuses control characters, but the template's escaping must hold whatever reaches it.
      const parameters = { ...resolveParameters(DECLARATIONS, { imageTag: 'pr-123', logLevel: 'debug' }), note };
      const deployment = buildInstanceDeployment(templates[format], { ...inputs, parameters });
      const containers = deployment.spec?.template.spec?.containers ?? [];
      expect(containers).toHaveLength(1);
      expect(containers[0]).toEqual({
        name: 'syncbased',
        image: 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:pr-123',
        env: [
          { name: 'LOG_LEVEL', value: 'debug' },
          { name: 'NOTE', value: note },
        ],
        command: [
          'syncbased',
          '--name=/ns/syncbased-1a2b3c4d',
          '--root-dir=/data/root',
          '--v23.permissions.literal={"Admin":{"In":["ada@example.com"]}}',
        ],
        volumeMounts: [{ name: 'data-disk', mountPath: '/data' }],
      });
      expect(instanceParameters(deployment.metadata?.annotations)).toEqual({ imageTag: 'pr-123', logLevel: 'debug', note });
    },
  );

  it('render with every default when a create names none, as the cold-start check does', () => {
    const deployment = checkTemplate(templates.JSON, { ...inputs, compute: { zone: 'z' }, parameters: DECLARATIONS });
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:v1');
    expect(deployment.metadata?.annotations?.[ANNOTATIONS.parameters]).toBe('{"imageTag":"v1","logLevel":"info","note":""}');
  });

  it('stop the function at start when the template uses one that is not declared, naming it and the declared ones', () => {
    const some: ParameterDeclaration[] = DECLARATIONS.filter((declaration) => declaration.name !== 'note');
    const check = () => checkTemplate(templates.JSON, { ...inputs, compute: { zone: 'z' }, parameters: some });
    expect(check).toThrow(TemplateError);
    expect(check).toThrow(
      /uses \{\{note\}\}, which is not a template field \(nor, as \{\{Parameters\.note\}\}, a declared parameter\); the fields are Name, .*Parameters, and the parameters \(ALLOCATOR_PARAMETERS\) are imageTag, logLevel$/,
    );
    expect(() => checkTemplate(templates.JSON, { ...inputs, compute: { zone: 'z' } })).toThrow(
      /the parameters \(ALLOCATOR_PARAMETERS\) are none$/,
    );
  });

  it("take no value from Object's prototype: an undeclared {{Parameters.constructor}} is refused too", () => {
    const source = readFileSync(JSON_TEMPLATE, 'utf8').replace('{{Parameters.note}}', '{{Parameters.constructor}}');
    const template = compileDeploymentTemplate(source, { format: 'json', source: 'constructor.json.hbs' });
    expect(() => checkTemplate(template, { ...inputs, compute: { zone: 'z' }, parameters: DECLARATIONS })).toThrow(
      /uses \{\{constructor\}\}, which is not a template field \(nor, as \{\{Parameters\.constructor\}\}, a declared parameter\)/,
    );
    const declared = [...DECLARATIONS, { name: 'constructor', description: 'd', default: 'built', enum: ['built'] }];
    const rendered = checkTemplate(template, { ...inputs, compute: { zone: 'z' }, parameters: declared });
    expect(rendered.spec?.template.spec?.containers[0]?.env).toContainEqual({ name: 'NOTE', value: 'built' });
  });

  it('leave a Deployment without them as it was: no annotation', () => {
    const deployment = checkTemplate(
      compileDeploymentTemplate(
        readFileSync(fileURLToPath(new URL('../../../../templates/syncbased-deployment.json.hbs', import.meta.url)), 'utf8'),
        {
          format: 'json',
        },
      ),
      { ...inputs, compute: { zone: 'z' } },
    );
    expect(Object.keys(deployment.metadata?.annotations ?? {})).not.toContain(ANNOTATIONS.parameters);
    expect(instanceParameters(deployment.metadata?.annotations)).toEqual({});
  });
});

describe('instanceParameters, what a restore re-renders with', () => {
  it.each([
    ['no annotations', undefined, {}],
    ['no parameters annotation', { other: 'x' }, {}],
    [
      'the annotation create writes',
      { [ANNOTATIONS.parameters]: '{"imageTag":"pr-1","note":"a\\nb"}' },
      { imageTag: 'pr-1', note: 'a\nb' },
    ],
    ['an annotation edited into something else', { [ANNOTATIONS.parameters]: 'not json' }, {}],
    ['a list', { [ANNOTATIONS.parameters]: '["x"]' }, {}],
    ['entries that are not text, dropped', { [ANNOTATIONS.parameters]: '{"a":"1","b":2,"c":null}' }, { a: '1' }],
  ])('reads %s', (_label, annotations, expected) => {
    expect(instanceParameters(annotations)).toEqual(expected);
  });
});

describe('rendering an instance again (a share, a transfer, a restore)', () => {
  const made = buildInstanceDeployment(templates.JSON, {
    ...inputs,
    parameters: resolveParameters(DECLARATIONS, { imageTag: 'pr-9', note: 'kept "as is"' }),
  });
  const config = { ...inputs, compute: { zone: 'us-central1-c' }, parameters: DECLARATIONS };

  it('keeps the parameters the instance was made with', () => {
    const patch = accessPatch(templates.JSON, config, made, { collaborators: ['bob@example.com'], creator: 'ada@example.com' }) as {
      spec: { template: { spec: { containers: { image: string; env: unknown }[] } } };
    };
    expect(patch.spec.template.spec.containers[0]?.image).toBe('us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:pr-9');
    expect(patch.spec.template.spec.containers[0]?.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'NOTE', value: 'kept "as is"' },
    ]);
  });

  it('gives a parameter declared since the instance was made its default', () => {
    const older = { [ANNOTATIONS.parameters]: '{"imageTag":"pr-9"}' };
    expect(parametersToRenderAgain(older, DECLARATIONS)).toEqual({ imageTag: 'pr-9', logLevel: 'info', note: '' });
    expect(parametersToRenderAgain(undefined, DECLARATIONS)).toEqual({ imageTag: 'v1', logLevel: 'info', note: '' });
    expect(parametersToRenderAgain(older)).toEqual({ imageTag: 'pr-9' });
  });
});
