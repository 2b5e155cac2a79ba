import { describe, expect, it } from 'vitest';
import { asksForProgress } from '../../../../shared/api/progress.ts';

describe('asksForProgress', () => {
  it('reads the Accept header as HTTP does: listed types, parameters, and q=0 as a refusal', () => {
    expect(asksForProgress('application/x-ndjson')).toBe(true);
    expect(asksForProgress('application/json, Application/X-NDJSON; q=0.5')).toBe(true);
    expect(asksForProgress(['text/html', 'application/x-ndjson'])).toBe(true);
    expect(asksForProgress('application/x-ndjson;q=0')).toBe(false);
    expect(asksForProgress('application/x-ndjson; q=0.000')).toBe(false);
    expect(asksForProgress('application/json')).toBe(false);
    expect(asksForProgress('*/*')).toBe(false);
    expect(asksForProgress(undefined)).toBe(false);
  });
});
