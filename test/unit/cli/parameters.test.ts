import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command.ts';
import { formatParameters, paramsOf } from '../../../cli/parameters.ts';

describe('--param NAME=VALUE', () => {
  it.each([
    [[], undefined],
    [['imageTag=pr-123'], { imageTag: 'pr-123' }],
    [['imageTag=pr-123', 'logLevel=debug'], { imageTag: 'pr-123', logLevel: 'debug' }],
    [['note=a=b, c'], { note: 'a=b, c' }],
    [['note='], { note: '' }],
  ])('%j gives %j', (given, expected) => {
    expect(paramsOf(given.length === 0 ? {} : { param: given })).toEqual(expected);
  });

  it.each([
    [['imageTag'], /--param takes NAME=VALUE \(got "imageTag"\)/],
    [['=v1'], /--param takes NAME=VALUE/],
    [['imageTag=a', 'imageTag=b'], /--param imageTag is given twice/],
  ])('refuses %j as bad usage', (given, message) => {
    expect(() => paramsOf({ param: given })).toThrow(UsageError);
    expect(() => paramsOf({ param: given })).toThrow(message);
  });
});

describe('allocator parameters', () => {
  it('prints each parameter with its default, rule and description', () => {
    expect(
      formatParameters([
        { name: 'imageTag', description: 'The image tag.', default: 'v1', pattern: '^[a-z0-9.-]+$', maxLength: 64 },
        { name: 'logLevel', description: 'How much\nit logs.', default: 'info', enum: ['debug', 'info'] },
      ]),
    ).toBe(
      [
        'imageTag (default "v1")',
        '  text matching ^[a-z0-9.-]+$, of at most 64 characters',
        '  The image tag.',
        '',
        'logLevel (default "info")',
        '  one of "debug", "info"',
        '  How much it logs.',
      ].join('\n'),
    );
    expect(formatParameters([])).toBe('this allocator takes no parameters');
  });
});
