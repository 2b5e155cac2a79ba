import { describe, expect, it } from 'vitest';
import { FilterSyntaxError, parseComputeFilter } from '../../harness/compute-filter.ts';

const disk = { name: 'syncbased-1a2b3c4d', status: 'READY', labels: { 'owner-hash': 'abc', app: 'syncbased' } };

describe('parseComputeFilter', () => {
  it.each([
    ['', true],
    ['labels.owner-hash = "abc"', true],
    ['labels.owner-hash=abc', true],
    ['labels.owner-hash = "xyz"', false],
    ['labels.owner-hash != "xyz"', true],
    ['(labels.owner-hash = "abc") (labels.app = "syncbased")', true],
    ['(labels.owner-hash = "abc") AND (labels.app = "other")', false],
    ['labels.app:*', true],
    ['labels.missing:*', false],
    ['name eq syncbased-.*', true],
    ['name ne syncbased-.*', false],
    ["status = 'READY'", true],
  ])('%j matches: %s', (filter, expected) => {
    expect(parseComputeFilter(filter)(disk)).toBe(expected);
  });

  it.each(['labels.owner-hash', '(a = "b") OR (c = "d")', 'name = ', '(a = "b") junk'])('rejects %j', (filter) => {
    expect(() => parseComputeFilter(filter)).toThrow(FilterSyntaxError);
  });
});
