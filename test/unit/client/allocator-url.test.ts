import { describe, expect, it } from 'vitest';
import { allocatorEndpoints } from '../../../client/allocator-url.ts';

describe('allocatorEndpoints', () => {
  it.each([
    [
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator',
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator-create',
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator',
    ],
    [
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator/',
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator-create',
      'https://us-central1-p.cloudfunctions.net/syncbase-allocator',
    ],
    ['https://sa-{function}-abc-uc.a.run.app', 'https://sa-create-abc-uc.a.run.app', 'https://sa-{function}-abc-uc.a.run.app'],
    ['http://127.0.0.1:8080/allocator', 'http://127.0.0.1:8080/allocator-create', 'http://127.0.0.1:8080/allocator'],
  ])('%s', (allocator, create, audience) => {
    const endpoints = allocatorEndpoints(allocator);
    expect(endpoints.create).toBe(create);
    expect(endpoints.destroy).toBe(create.replace('create', 'destroy'));
    expect(endpoints.list).toBe(create.replace('create', 'list'));
    expect(endpoints.audience).toBe(audience);
  });

  it.each(['syncbase-allocator', 'http://allocator.example.com/x', 'ftp://x/y', ''])('refuses %j', (allocator) => {
    expect(() => allocatorEndpoints(allocator)).toThrow(/--allocator must be/);
  });
});
