import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../../shared/api/openapi.ts';
import {
  parameterDeclarationsOf,
  PARAMETER_LIMITS,
  parametersSchema,
  resolveParameters,
  type ParameterDeclaration,
} from '../../../../shared/api/parameters.ts';
import { parseRequest } from '../../../../shared/api/requests.ts';
import { BadRequestError } from '../../../../shared/errors.ts';

const DECLARATIONS: readonly ParameterDeclaration[] = [
  { name: 'imageTag', description: 'The image tag.', default: 'v1', pattern: '^[a-z0-9][-a-z0-9._]*$', maxLength: 64 },
  { name: 'logLevel', description: 'How much it logs.', default: 'info', enum: ['debug', 'info', 'warning'] },
  { name: 'note', description: 'Free text.', default: '', pattern: '^[\\s\\S]*$', maxLength: 200 },
];
const DEFAULTS = { imageTag: 'v1', logLevel: 'info', note: '' };

function parseCreate(body: Record<string, unknown>, declarations = DECLARATIONS) {
  return parseRequest('create', { body, query: new URLSearchParams(), headers: {} }, { serverName: 'syncbased', parameters: declarations });
}

/** A 400 from parsing `body`, or a failure saying there was none. */
function refusal(body: Record<string, unknown>, declarations = DECLARATIONS): BadRequestError {
  try {
    parseCreate(body, declarations);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(body).slice(0, 200)} was accepted`);
}

describe("create's parameters", () => {
  it.each([
    ['none given: absent, so that the plan gives the defaults', {}, undefined],
    ['one given: the others at their defaults', { parameters: { imageTag: 'pr-123' } }, { ...DEFAULTS, imageTag: 'pr-123' }],
    ['an empty object: every default', { parameters: {} }, DEFAULTS],
    [
      'all given',
      { parameters: { imageTag: 'a.b-c_d', logLevel: 'debug', note: 'x' } },
      { imageTag: 'a.b-c_d', logLevel: 'debug', note: 'x' },
    ],
    ['the longest value the rule allows', { parameters: { imageTag: 'a'.repeat(64) } }, { ...DEFAULTS, imageTag: 'a'.repeat(64) }],
    [
      "astral characters, counted as JSON Schema's maxLength counts them",
      { parameters: { note: '😀'.repeat(200) } },
      { ...DEFAULTS, note: '😀'.repeat(200) },
    ],
  ])('%s', (_label, body, expected) => {
    expect(parseCreate(body).parameters).toEqual(expected);
  });

  it.each([
    ['not an object', { parameters: 'imageTag=x' }, /"parameters" must be an object .*; this allocator takes imageTag, logLevel, note/],
    ['a list', { parameters: ['x'] }, /"parameters" must be an object/],
    ['an unknown name', { parameters: { image: 'x' } }, /unknown parameter "image"; this allocator takes imageTag, logLevel, note/],
    [
      'a number',
      { parameters: { imageTag: 5 } },
      /parameter "imageTag" must be a string: text matching \^\[a-z0-9\]\S+, of at most 64 characters \(got number\)/,
    ],
    [
      'a value outside the enum',
      { parameters: { logLevel: 'INFO' } },
      /parameter "logLevel" is "INFO": it must be one of "debug", "info", "warning"/,
    ],
    [
      'a value that breaks the pattern',
      { parameters: { imageTag: 'PR 1' } },
      /parameter "imageTag" is "PR 1": it must be text matching \^\[a-z0-9\]\[-a-z0-9._\]\*\$, of at most 64 characters$/,
    ],
    ['a value over maxLength', { parameters: { imageTag: 'a'.repeat(65) } }, /parameter "imageTag" .*at most 64 characters \(it has 65\)/],
    ['a lone surrogate', { parameters: { note: 'a\ud800b' } }, /parameter "note" .*well-formed Unicode/],
    [
      'more entries than any allocator takes',
      { parameters: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, 'x'])) },
      /"parameters" names 40 parameters, over the 32 any allocator takes/,
    ],
  ])('refuses %s with a 400 that names the parameter and its rule', (_label, body, message) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('refuses any parameter where none are declared, saying so', () => {
    expect(refusal({ parameters: { imageTag: 'x' } }, []).message).toBe('unknown parameter "imageTag"; this allocator takes no parameters');
    expect(parseCreate({ parameters: {} }, []).parameters).toEqual({});
  });

  it('takes a parameter named like an Object method, and gives it its default when not named', () => {
    const declarations: ParameterDeclaration[] = [{ name: 'constructor', description: 'd', default: 'x', enum: ['x', 'y'] }];
    expect(parseCreate({ parameters: {} }, declarations).parameters).toEqual({ constructor: 'x' });
    expect(parseCreate({ parameters: { constructor: 'y' } }, declarations).parameters).toEqual({ constructor: 'y' });
    expect(refusal({ parameters: { toString: 'y' } }, declarations).message).toMatch(/unknown parameter "toString"/);
  });

  it('shows a long refused value cut short', () => {
    const message = refusal({ parameters: { logLevel: 'x'.repeat(5000) } }).message;
    expect(message.length).toBeLessThan(300);
  });

  it('refuses 200 seeded invalid values, each with a 400 naming the parameter', () => {
    const random = seeded(25);
    const cases = Array.from({ length: 200 }, () => invalidCase(random));
    const kinds = new Set<string>();
    for (const { kind, name, value } of cases) {
      kinds.add(kind);
      const error = refusal({ parameters: { [name]: value } });
      expect(error.status, `${kind} ${JSON.stringify(value)}`).toBe(400);
      expect(error.message, `${kind} ${JSON.stringify(value)}`).toContain(`"${name}"`);
    }
    // Every way of being wrong was tried.
    expect([...kinds].sort()).toEqual([
      'enum',
      'forbidden character',
      'leading character',
      'lone surrogate',
      'too long',
      'type',
      'unknown name',
    ]);
  });
});

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TAG_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-._';
const FORBIDDEN = ['A', 'Z', ' ', '"', "'", '{', '}', '\n', '\\', '/', ':', 'é', '😀', '\u2028', '$', '+'];

/** A value invalid by construction (not by asking the code under test), with why. */
function invalidCase(random: () => number): { kind: string; name: string; value: unknown } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const tag = (length: number): string => 'a' + Array.from({ length: Math.max(0, length - 1) }, () => pick([...TAG_CHARS])).join('');
  switch (Math.floor(random() * 7)) {
    case 0: {
      const value = tag(1 + Math.floor(random() * 30));
      const at = Math.floor(random() * (value.length + 1));
      return { kind: 'forbidden character', name: 'imageTag', value: value.slice(0, at) + pick(FORBIDDEN) + value.slice(at) };
    }
    case 1:
      return { kind: 'too long', name: pick(['imageTag', 'note']), value: tag(201 + Math.floor(random() * 800)) };
    case 2:
      return { kind: 'leading character', name: 'imageTag', value: pick(['-', '.', '_']) + tag(1 + Math.floor(random() * 20)) };
    case 3: {
      const base = pick(['debug', 'info', 'warning']);
      return { kind: 'enum', name: 'logLevel', value: pick([base.toUpperCase(), `${base} `, ` ${base}`, `${base}x`, '', tag(5)]) };
    }
    case 4:
      return { kind: 'type', name: pick(['imageTag', 'logLevel', 'note']), value: pick([1, 0, true, null, [], ['v1'], { v: 1 }, 1.5]) };
    case 5:
      return { kind: 'lone surrogate', name: 'note', value: `${tag(3)}${pick(['\ud800', '\udfff', '\udc00'])}${tag(3)}` };
    default:
      return {
        kind: 'unknown name',
        name: pick(['ImageTag', 'image', 'tag', '__proto__x', 'constructor', 'note2', 'a'.repeat(70)]),
        value: 'v1',
      };
  }
}

describe('the description of the parameters', () => {
  it('gives each declared parameter its rule, default and description, and nothing else', () => {
    expect(parametersSchema(DECLARATIONS, 'Values.')).toEqual({
      type: 'object',
      description: 'Values.',
      additionalProperties: false,
      maxProperties: 3,
      properties: {
        imageTag: { type: 'string', description: 'The image tag.', default: 'v1', pattern: '^[a-z0-9][-a-z0-9._]*$', maxLength: 64 },
        logLevel: { type: 'string', description: 'How much it logs.', default: 'info', enum: ['debug', 'info', 'warning'] },
        note: { type: 'string', description: 'Free text.', default: '', pattern: '^[\\s\\S]*$', maxLength: 200 },
      },
    });
  });

  it("is in /openapi.json under create's body, and reads back as the declarations", () => {
    const document = openApiDocument({ version: 'v1', parameters: DECLARATIONS });
    const body = (document.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>)[
      '/create'
    ]?.post?.requestBody?.content['application/json']?.schema as { properties: Record<string, unknown> };
    expect(body.properties.parameters).toEqual(parametersSchema(DECLARATIONS, expect.any(String) as unknown as string));
    expect(parameterDeclarationsOf(document)).toEqual(DECLARATIONS);
  });

  it('says there are none where none are declared', () => {
    const document = openApiDocument({ version: 'v1' });
    expect(parameterDeclarationsOf(document)).toEqual([]);
    expect(JSON.stringify(document)).toContain('This allocator declares none.');
  });

  it('reads a description from before parameters as none, and refuses one that is not a description', () => {
    const old = openApiDocument({ version: 'v1' }) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const create = old.paths['/create']!.post as { requestBody: { content: { 'application/json': { schema: { properties: object } } } } };
    const { parameters: _dropped, ...rest } = create.requestBody.content['application/json'].schema.properties as Record<string, unknown>;
    create.requestBody.content['application/json'].schema.properties = rest;
    expect(parameterDeclarationsOf(old)).toEqual([]);
    expect(() => parameterDeclarationsOf({ html: true })).toThrow(/no paths/);
  });

  it('bounds what one create may carry', () => {
    expect(PARAMETER_LIMITS.count * PARAMETER_LIMITS.valueLength * 6).toBeLessThan(256 * 1024); // one annotation, escaped at worst
    expect(resolveParameters(DECLARATIONS, undefined)).toEqual(DEFAULTS);
  });
});

describe('a pattern rules the whole value (issue 29)', () => {
  // As a declaration read back from another allocator's /openapi.json might be: anchored as text only.
  const loose: readonly ParameterDeclaration[] = [
    { name: 'imageTag', description: 'The image tag.', default: 'v1', pattern: '^v1|v2$', maxLength: 64 },
  ];

  it.each(['v1; rm -rf /', 'x-v2', 'v1v2'])('refuses %j, which matches only one alternative at one end', (value) => {
    expect(refusal({ parameters: { imageTag: value } }, loose).message).toMatch(/parameter "imageTag" is .*: it must be text matching/);
  });

  it.each(['v1', 'v2'])('takes %j', (value) => {
    expect(parseCreate({ parameters: { imageTag: value } }, loose).parameters).toEqual({ imageTag: value });
  });
});

describe('parameter values with control characters (issue 29)', () => {
  it.each(['a\u001b[31mb', 'line 1\nline 2', 'tab\there', 'c1\u009bx', 'del\u007f'])(
    'refuses %j, even where the pattern takes it',
    (value) => {
      expect(refusal({ parameters: { note: value } }).message).toMatch(/parameter "note" is .*: .*without control characters/);
    },
  );

  it('refuses one in an enum value the operator declared, at start', () => {
    expect(() =>
      parseCreate({ parameters: { level: 'x\u001b' } }, [{ name: 'level', description: 'L.', default: 'x', enum: ['x', 'x\u001b'] }]),
    ).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/without control characters/) }));
  });
});
