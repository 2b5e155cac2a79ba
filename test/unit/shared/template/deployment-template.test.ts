import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compileDeploymentTemplate,
  PRECOMPILED_SUFFIX,
  precompiledTemplateModule,
  TemplateError,
  templateFormatOf,
  type PrecompiledTemplate,
} from '../../../../shared/template/deployment-template.ts';
import { jsonStringLiteral, makeTemplateData } from '../../../../shared/template/template-data.ts';

const data = makeTemplateData({
  name: 'syncbased-1a2b3c4d',
  accessList: ['ada@example.com', 'admin@example.com'],
  mountName: '/ns/allocated/syncbased-1a2b3c4d',
  ownerHash: 'f'.repeat(40),
  version: 'v1.2',
  creatorInfo: {
    email: 'ada@example.com',
    mountName: '/ns/allocated/syncbased-1a2b3c4d',
    createdAt: '2026-11-25T00:00:00.000Z',
    allocator: 'syncbased',
  },
});

const expected = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'syncbased-1a2b3c4d',
    annotations: {
      'v.io/creator-info':
        '{"email":"ada@example.com","mountName":"/ns/allocated/syncbased-1a2b3c4d","createdAt":"2026-11-25T00:00:00.000Z","allocator":"syncbased"}',
    },
    labels: { ownerHash: 'f'.repeat(40) },
  },
  spec: {
    replicas: 1,
    strategy: { type: 'Recreate' },
    selector: { matchLabels: { application: 'syncbased-1a2b3c4d' } },
    template: {
      metadata: { labels: { application: 'syncbased-1a2b3c4d' } },
      spec: {
        containers: [
          {
            name: 'syncbased',
            image: 'us-docker.pkg.dev/YOUR-PROJECT/YOUR-REPOSITORY/syncbased:v1.2',
            command: [
              'syncbased',
              '--name=/ns/allocated/syncbased-1a2b3c4d',
              '--root-dir=/data/root',
              '--v23.permissions.literal={"Admin":{"In":["ada@example.com","admin@example.com"]}}',
            ],
            volumeMounts: [{ name: 'data-disk', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data-disk', gcePersistentDisk: { pdName: 'syncbased-1a2b3c4d', fsType: 'ext4' } }],
      },
    },
  },
};

describe('the shipped syncbased templates', () => {
  it.each(['templates/syncbased-deployment.json.hbs', 'templates/syncbased-deployment.yaml.hbs'])(
    '%s renders the whole expected Deployment',
    (path) => {
      const template = compileDeploymentTemplate(readFileSync(path, 'utf8'), { format: templateFormatOf(path) });
      expect(template.render(data)).toEqual(expected);
    },
  );
});

/** What the bundle ships beside a template, loaded as create's runtime loads it. */
function precompiled(source: string): PrecompiledTemplate {
  const dir = mkdtempSync(join(tmpdir(), 'allocator-precompiled-'));
  try {
    const file = join(dir, `template${PRECOMPILED_SUFFIX}`);
    writeFileSync(file, precompiledTemplateModule(source));
    return createRequire(import.meta.url)(file) as PrecompiledTemplate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a template compiled by the bundle', () => {
  it.each(['templates/syncbased-deployment.json.hbs', 'templates/syncbased-deployment.yaml.hbs'])(
    '%s renders as it does compiled at start',
    (path) => {
      const source = readFileSync(path, 'utf8');
      const template = compileDeploymentTemplate(source, { format: templateFormatOf(path), precompiled: precompiled(source) });
      expect(template.render(data)).toEqual(expected);
    },
  );

  it('keeps the strict checks: an unknown field is still named', () => {
    const source = minimal('{{Nmae}}');
    expect(() => compileDeploymentTemplate(source, { format: 'json', precompiled: precompiled(source) }).render(data)).toThrow(
      /uses \{\{Nmae\}\}, which is not a template field/,
    );
  });

  it('is used only for the source it was made from, by this Handlebars', () => {
    const source = readFileSync('templates/syncbased-deployment.json.hbs', 'utf8');
    const other = precompiled(source.replace('"ownerHash"', '"otherLabel"'));
    const labels = (given: PrecompiledTemplate) =>
      compileDeploymentTemplate(source, { format: 'json', precompiled: given }).render(data).metadata?.labels;
    expect(labels(other)).toEqual({ ownerHash: 'f'.repeat(40) });
    expect(labels({ ...precompiled(source), spec: other.spec, handlebars: '0.0.1' })).toEqual({ ownerHash: 'f'.repeat(40) });
    // With the source's hash and this version, what is given is what renders.
    expect(labels({ ...precompiled(source), spec: other.spec })).toEqual({ otherLabel: 'f'.repeat(40) });
  });
});

const minimal = (name = '{{Name}}', extra = ''): string =>
  `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"${name}"${extra}}}`;

/** What cold start does: compile, then render once. */
const compileAndRender = (source: string, format: 'json' | 'yaml') => compileDeploymentTemplate(source, { format }).render(data);

describe('a template is refused at startup', () => {
  it.each([
    ['an unknown field', minimal('{{Nmae}}'), 'json', /uses \{\{Nmae\}\}, which is not a template field/],
    ['a helper', minimal('{{lookup Name}}'), 'json', /lookup|helper/i],
    ['invalid JSON', '{"apiVersion": "apps/v1",', 'json', /does not expand to valid JSON/],
    [
      'a Service without metadata beside the Deployment',
      'apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: "{{Name}}"}\n',
      'yaml',
      /object 1 \(v1 Service\) has no metadata/,
    ],
    ['a list', '[1, 2]', 'json', /found an array/],
    ['another kind', '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{Name}}"}}', 'json', /found v1 Pod/],
    [
      'the old extensions/v1beta1 Deployment',
      '{"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"{{Name}}"}}',
      'json',
      /found extensions\/v1beta1 Deployment/,
    ],
    ['a fixed name', minimal('fixed'), 'json', /metadata.name must be \{\{Name\}\}.*found "fixed"/],
    ['no spec', minimal(), 'json', /spec is missing/],
    ['labels that are not strings', minimal('{{Name}}', ',"labels":{"n":1}'), 'json', /metadata.labels must map names to strings/],
    ['unbalanced Handlebars', minimal('{{Name}'), 'json', /Parse error|Expecting/],
  ] as const)('%s', (_label, source, format, message) => {
    expect(() => compileAndRender(source, format)).toThrow(TemplateError);
    expect(() => compileAndRender(source, format)).toThrow(message);
  });

  it('names the format from the file name', () => {
    expect(templateFormatOf('a/x.json.hbs')).toBe('json');
    expect(templateFormatOf('x.yaml.hbs')).toBe('yaml');
    expect(templateFormatOf('x.yml')).toBe('yaml');
    expect(() => templateFormatOf('x.txt')).toThrow(/\.json\.hbs or \*\.yaml\.hbs/);
  });
});

describe('template data encodings', () => {
  it('puts the access list inside a JSON string and CreatorInfo as a whole literal', () => {
    expect(data.AccessList).toBe('{\\"In\\":[\\"ada@example.com\\",\\"admin@example.com\\"]}');
    expect(JSON.parse(JSON.parse(data.CreatorInfo) as string)).toMatchObject({ email: 'ada@example.com' });
  });

  it.each(['"', '\\', '\n', '\u2028', 'ü', '😀', '</script>', '{{Name}}'])('round-trips %j through a JSON string literal', (text) => {
    const literal = jsonStringLiteral(text);
    expect(literal).toMatch(/^"[\x20-\x7e]*"$/); // printable ASCII only
    expect(JSON.parse(literal)).toBe(text);
  });
});
