import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../../../shared/config/env-file.ts';

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines with comments, quotes and export', () => {
    expect(parseEnvFile('# c\n\nA=1\nexport B="two words"\nC=\'x=y\'\nD=\n', 'f')).toEqual({ A: '1', B: 'two words', C: 'x=y', D: '' });
  });
  it('reads a quoted value over several lines without calling its inner lines bad', () => {
    expect(parseEnvFile('A="first\nsecond line"\nB=2\n', 'f')).toEqual({ A: 'first\nsecond line', B: '2' });
  });
  it('names the line of a bad one', () => {
    expect(() => parseEnvFile('A=1\nnot a pair\n', 'local.env')).toThrow('local.env:2: expected KEY=VALUE');
  });
});
