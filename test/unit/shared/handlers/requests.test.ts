import { describe, expect, it } from 'vitest';
import { parseCreateRequest } from '../../../../shared/handlers/create-handler.ts';
import { parseDestroyRequest } from '../../../../shared/handlers/destroy-handler.ts';
import { parseListQuery } from '../../../../shared/handlers/list-handler.ts';
import { parseBody } from '../../../../shared/http/http-function.ts';

describe('request parsing', () => {
  it.each([
    [{}, { wait: true }],
    [{ wait: false }, { wait: false }],
    [{ waitTimeoutSeconds: 30 }, { wait: true, waitTimeoutMs: 30_000 }],
  ])('create %j -> %j', (body, expected) => {
    expect(parseCreateRequest(body)).toEqual(expected);
  });

  it.each([
    [{ wait: 'no' }, /"wait" must be true or false/],
    [{ waitTimeoutSeconds: 0 }, /whole number of seconds >= 1/],
    [{ waitTimeoutSeconds: 1.5 }, /whole number/],
    [{ image: 'evil' }, /unknown field "image"; this request takes wait, waitTimeoutSeconds/],
  ])('create refuses %j', (body, message) => {
    expect(() => parseCreateRequest(body)).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(message) }));
  });

  it.each([[{}], [{ name: 3 }], [{ name: '' }], [{ name: 'a', force: true }]])('destroy refuses %j', (body) => {
    expect(() => parseDestroyRequest(body)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it.each([
    ['', { all: false }],
    ['all=true', { all: true }],
    ['all=false', { all: false }],
  ])('list ?%s -> %j', (query, expected) => {
    expect(parseListQuery(new URLSearchParams(query))).toEqual(expected);
  });

  it.each(['all=yes', 'owner=bob'])('list refuses ?%s', (query) => {
    expect(() => parseListQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ status: 400 }));
  });

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
