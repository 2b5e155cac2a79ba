import { describe, expect, it } from 'vitest';
import { parseBody } from '../../../../shared/http/body.ts';

describe('parseBody', () => {
  it.each([
    [undefined, {}],
    [Buffer.from('  '), {}],
    [Buffer.from('{"a":1}'), { a: 1 }],
  ])('parses body %j', (raw, expected) => {
    expect(parseBody(raw)).toEqual(expected);
  });

  it.each(['{', '[]', 'null', '"text"', '3'])('refuses body %j', (raw) => {
    expect(() => parseBody(Buffer.from(raw))).toThrow(expect.objectContaining({ status: 400 }));
  });
});
