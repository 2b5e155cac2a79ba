import { describe, expect, it } from 'vitest';
import { parseBody, rejectUnknownFields } from '../../../../shared/http/body.ts';

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

describe('rejectUnknownFields', () => {
  it('names every unknown field and what the request takes', () => {
    expect(() => rejectUnknownFields({ a: 1, b: 2, name: 'x' }, ['name'])).toThrow('unknown fields "a", "b"; this request takes name');
    expect(() => rejectUnknownFields({ a: 1 }, [])).toThrow('this request takes no fields');
    expect(() => rejectUnknownFields({ name: 'x' }, ['name'])).not.toThrow();
  });
});
