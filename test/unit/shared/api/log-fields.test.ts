import { describe, expect, it } from 'vitest';
import { parseDuration, parseLineCount, parseSinceTime } from '../../../../shared/api/log-fields.ts';
import { BadRequestError } from '../../../../shared/errors.ts';
import { logApiParams } from '../../../../shared/plans/log-query.ts';

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1h0m5s', 3605],
    ['90m', 5400],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text, 'since')).toBe(seconds);
  });

  it.each(['', '0s', '5', '5x', '1d', '-5m', '1.5h', '30s5m', ' 5m', '5m '])(
    'refuses %j with a 400 naming the field and the forms',
    (text) => {
      expect(() => parseDuration(text, 'since')).toThrow(BadRequestError);
      expect(() => parseDuration(text, 'since')).toThrow(`"since" must be a duration such as 30s, 5m, 2h or 1h30m; got "${text}"`);
    },
  );
});

describe('parseSinceTime and parseLineCount', () => {
  it.each(['2026-01-02T15:04:05Z', '2026-01-02T15:04:05.123456789Z', '2026-01-02T15:04:05.1+02:00'])('takes %s', (text) => {
    expect(parseSinceTime(text, 'sinceTime')).toBe(text);
  });
  it.each(['yesterday', '2026-01-02', '2026-13-02T15:04:05Z'])('refuses %s', (text) => {
    expect(() => parseSinceTime(text, 'sinceTime')).toThrow(/"sinceTime" must be an RFC 3339 time/);
  });
  it('counts lines from 0', () => {
    expect(parseLineCount('0', 'tailLines')).toBe(0);
    expect(parseLineCount('250', 'tailLines')).toBe(250);
    expect(() => parseLineCount('-1', 'tailLines')).toThrow('"tailLines" must be a whole number of lines >= 0; got "-1"');
  });
});

describe('logApiParams', () => {
  it('asks for timestamps always, and a resume time over a duration', () => {
    expect(Object.fromEntries(logApiParams({ follow: true, sinceSeconds: 60, tailLines: 5 }, 'app'))).toEqual({
      container: 'app',
      timestamps: 'true',
      follow: 'true',
      sinceSeconds: '60',
      tailLines: '5',
    });
    expect(Object.fromEntries(logApiParams({ follow: false, sinceTime: '2026-01-02T15:04:05Z' }, 'app'))).toEqual({
      container: 'app',
      timestamps: 'true',
      follow: 'false',
      sinceTime: '2026-01-02T15:04:05Z',
    });
  });
});
