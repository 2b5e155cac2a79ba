import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../shared/config/config-error.ts';
import { loadConfig } from '../../../../shared/config/load-config.ts';
import { declarationsDocument, loadParameterDeclarations, parseParameterDeclarations } from '../../../../shared/config/parameters.ts';

const tag = { description: 'The image tag.', default: 'v1', pattern: '^[a-z0-9.-]+$', maxLength: 64 };
const level = { description: 'How much it logs.', default: 'info', enum: ['debug', 'info'] };

describe('parseParameterDeclarations', () => {
  it('reads each name with its description, default and rule, in order', () => {
    expect(parseParameterDeclarations({ imageTag: tag, logLevel: level }, 'p.yaml')).toEqual([
      { name: 'imageTag', ...tag },
      { name: 'logLevel', ...level },
    ]);
  });

  it.each([null, undefined, {}])('reads %j as no parameters', (raw) => {
    expect(parseParameterDeclarations(raw, 'p.yaml')).toEqual([]);
  });

  it.each([
    ['a list', [tag], /p\.yaml: must map each parameter name to its declaration/],
    ['a name that is no identifier', { 'image-tag': tag }, /"image-tag" is not a parameter name: a letter, then letters, digits or _/],
    ['a name too long', { ['a'.repeat(64)]: tag }, /is not a parameter name.*at most 63/],
    ['a declaration that is no object', { imageTag: 'v1' }, /imageTag must be an object with description, default/],
    [
      'an unknown key',
      { imageTag: { ...tag, required: true } },
      /imageTag\.required is not a declaration field; they are description, default, enum, pattern, maxLength/,
    ],
    ['no description', { imageTag: { ...tag, description: ' ' } }, /imageTag\.description is missing/],
    [
      'a default that is not text',
      { imageTag: { ...tag, default: 1 } },
      /imageTag\.default must be a string \(quote numbers and booleans in YAML\)/,
    ],
    [
      'no rule',
      { imageTag: { description: 'd', default: 'v1' } },
      /imageTag needs a rule: enum \(a list of values\), or pattern with maxLength/,
    ],
    ['two rules', { imageTag: { ...level, pattern: '^a$' } }, /imageTag has both enum and pattern\/maxLength: give one rule/],
    ['an empty enum', { logLevel: { ...level, enum: [] } }, /logLevel\.enum must be a non-empty list of strings/],
    ['an enum of numbers', { logLevel: { ...level, enum: [1, 2] } }, /logLevel\.enum must be a non-empty list of strings/],
    ['an enum listing a value twice', { logLevel: { ...level, enum: ['info', 'info'] } }, /logLevel\.enum lists a value twice/],
    ['an unanchored pattern', { imageTag: { ...tag, pattern: '[a-z]+' } }, /imageTag\.pattern must start with \^ and end with \$/],
    [
      'a pattern ending in an escaped $',
      { imageTag: { ...tag, pattern: '^a\\$' } },
      /imageTag\.pattern must start with \^ and end with \$/,
    ],
    [
      'a pattern whose ^ and $ anchor only its first and last alternatives',
      { imageTag: { ...tag, pattern: '^v1|v2$' } },
      /imageTag\.pattern must start with \^ and end with \$, so that it rules the whole value; wrap alternatives in a group, \^\(\?:a\|b\)\$ \(got "\^v1\|v2\$"\)/,
    ],
    ['alternatives each anchored', { imageTag: { ...tag, pattern: '^v1$|^v2$' } }, /imageTag\.pattern must start with \^ and end with \$/],
    ['a pattern that does not compile', { imageTag: { ...tag, pattern: '^(a$' } }, /imageTag\.pattern is not a valid regular expression/],
    [
      'a pattern without maxLength',
      { imageTag: { ...tag, maxLength: undefined } },
      /imageTag\.maxLength must be a whole number from 1 to 1024/,
    ],
    ['a maxLength over the limit', { imageTag: { ...tag, maxLength: 5000 } }, /imageTag\.maxLength must be a whole number from 1 to 1024/],
    [
      'a default outside the enum',
      { logLevel: { ...level, default: 'trace' } },
      /logLevel\.default "trace" breaks its own rule: it must be one of "debug", "info"/,
    ],
    [
      'an enum value with a control character',
      { logLevel: { ...level, enum: ['debug', 'info', 'x\u001b[2J'] } },
      /logLevel\.enum has a value with a control character/,
    ],
    [
      'a default with a control character',
      { imageTag: { ...tag, pattern: '^[\\s\\S]*$', default: 'v1\n' } },
      /imageTag\.default "v1\\n" breaks its own rule: .*without control characters/,
    ],
    ['a default that breaks the pattern', { imageTag: { ...tag, default: 'V1' } }, /imageTag\.default "V1" breaks its own rule/],
    ['too many parameters', Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, tag])), /declares 33 parameters; at most 32/],
  ])('refuses %s, naming the place', (_label, raw, message) => {
    const run = () => parseParameterDeclarations(raw, 'p.yaml');
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    expect(run).toThrow(/^ALLOCATOR_PARAMETERS: p\.yaml: /);
  });

  it.each([
    ['alternatives in a group', '^(v1|v2)$', 'v2'],
    ['a | in a class', '^[a|b]+$', 'a|b'],
    ['an escaped |', '^a\\|b$', 'a|b'],
    ['an escaped backslash before the $', '^a\\\\$', 'a\\'],
    ['a ] escaped in a class', '^[\\]|]+$', ']|'],
  ])('takes a pattern anchored at both ends: %s', (_label, pattern, value) => {
    const declaration = { ...tag, pattern, default: value };
    expect(parseParameterDeclarations({ imageTag: declaration }, 'p.yaml')).toEqual([{ name: 'imageTag', ...declaration }]);
  });

  it('writes the declarations back as a file holds them', () => {
    const declarations = parseParameterDeclarations({ imageTag: tag, logLevel: level }, 'p.yaml');
    expect(parseParameterDeclarations(JSON.parse(JSON.stringify(declarationsDocument(declarations))), 'again')).toEqual(declarations);
  });
});

describe('loadParameterDeclarations and ALLOCATOR_PARAMETERS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allocator-parameters-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'p.yaml'),
    'imageTag:\n  description: The image tag.\n  default: v1\n  pattern: ^[a-z0-9.-]+$\n  maxLength: 64\n',
  );
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ logLevel: level }));
  writeFileSync(join(dir, 'broken.yaml'), 'imageTag: [\n');
  writeFileSync(join(dir, 'broken.json'), '{"imageTag": ');
  writeFileSync(join(dir, 'allocator.env'), 'ALLOCATOR_PARAMETERS=p.yaml\n');
  const base = {
    ALLOCATOR_SERVER_NAME: 'syncbased',
    ALLOCATOR_AUDIENCES: 'aud',
    ALLOCATOR_KUBECONFIG: 'kubeconfig',
    ALLOCATOR_GCE_PROJECT: 'p',
    ALLOCATOR_GCE_ZONE: 'us-central1-c',
  };

  it('reads YAML and JSON by the file name', () => {
    expect(loadParameterDeclarations(join(dir, 'p.yaml'))).toEqual([{ name: 'imageTag', ...tag }]);
    expect(loadParameterDeclarations(join(dir, 'p.json'))).toEqual([{ name: 'logLevel', ...level }]);
  });

  it.each([
    ['broken.yaml', /ALLOCATOR_PARAMETERS: .*broken\.yaml is not valid YAML/],
    ['broken.json', /ALLOCATOR_PARAMETERS: .*broken\.json is not valid JSON/],
    ['missing.yaml', /ALLOCATOR_PARAMETERS: cannot read .*missing\.yaml \(ENOENT\)/],
  ])('refuses %s at start, saying why', (file, message) => {
    expect(() => loadConfig({ ...base, ALLOCATOR_PARAMETERS: file }, dir)).toThrow(message);
  });

  it('loads the declarations into the configuration: none without the setting', () => {
    expect(loadConfig(base, dir).parameters).toEqual([]);
    expect(loadConfig({ ...base, ALLOCATOR_PARAMETERS: 'p.json' }, dir).parameters).toEqual([{ name: 'logLevel', ...level }]);
  });

  it('takes a path in ALLOCATOR_CONFIG_FILE as relative to that file', () => {
    expect(loadConfig({ ...base, ALLOCATOR_CONFIG_FILE: join(dir, 'allocator.env') }, tmpdir()).parameters).toEqual([
      { name: 'imageTag', ...tag },
    ]);
  });
});
