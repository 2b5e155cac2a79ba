import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../shared/api/openapi.ts';
import { makeAnswerChecker } from '../../harness/openapi-check.ts';

const check = makeAnswerChecker(openApiDocument({ version: 'v1', allocator: 'https://allocator.test/syncbase-allocator' }));

const instance = {
  name: 'syncbased-1a2b3c4d',
  owner: 'ada@example.com',
  mountName: '/ns/syncbased-1a2b3c4d',
  accessList: { In: ['dev.v.io:u:ada@example.com'] },
  creationTime: '2026-12-02T05:00:00.000Z',
  replicas: 1,
  readyReplicas: 1,
  version: 'v1',
  disk: 'syncbased-1a2b3c4d',
  expiresAt: null,
  parameters: {},
  state: 'ready',
  problems: [],
  collaborators: [],
  endpoints: [
    { service: 'syncbased-1a2b3c4d', name: 'http', protocol: 'TCP', host: 'syncbased-1a2b3c4d.allocator.svc.cluster.local', port: 8080 },
  ],
};
const error = (code: number, status: string) => ({ error: { code, status, message: 'why' } });

describe('the answer checker the integration tests run on every answer', () => {
  it.each([
    ['create', 'POST', 201, instance],
    ['list', 'GET', 200, { instances: [instance, { ...instance, expiresAt: '2026-12-03T05:00:00.000Z', state: 'starting' }] }],
    ['destroy', 'DELETE', 200, { name: instance.name, destroyed: true }],
    ['create', 'POST', 429, error(429, 'RESOURCE_EXHAUSTED')],
    ['suspend', 'POST', 404, error(404, 'NOT_FOUND')],
  ] as const)('passes %s %s %d as described', (operation, method, status, body) => {
    expect(check({ operation, method, status, body })).toBeUndefined();
  });

  it.each([
    ['an instance without its state', 'create', 'POST', 201, { ...instance, state: undefined }, /must have required property 'state'/],
    [
      'a state that is not one of the states',
      'extend',
      'POST',
      200,
      { ...instance, state: 'running' },
      /must be equal to one of the allowed values/,
    ],
    [
      'a problem without its reason',
      'list',
      'GET',
      200,
      { instances: [{ ...instance, problems: [{ message: 'x', since: 'y' }] }] },
      /reason/,
    ],
    ['a status the operation does not declare', 'list', 'GET', 429, error(429, 'RESOURCE_EXHAUSTED'), /does not declare/],
    ['an error body of another shape', 'destroy', 'POST', 404, { message: 'not found' }, /must have required property 'error'/],
    ['a method the operation does not take', 'extend', 'GET', 200, instance, /not in the description/],
  ] as const)('catches %s', (_label, operation, method, status, body, message) => {
    expect(check({ operation, method, status, body })).toMatch(message);
  });
});

describe('the answer checker on a progress stream', () => {
  const at = '2026-12-02T05:00:00.000Z';
  const step = { at, step: 'slots', name: instance.name, message: 'slot taken' };
  const stream = (lines: readonly unknown[]) => check({ operation: 'create', method: 'POST', status: 201, body: undefined, lines });

  it('passes steps that end with the answer or an error of a status the operation declares', () => {
    expect(
      stream([step, { at, step: 'disk', pooled: true, message: 'disk taken from the warm pool' }, { at, status: 201, answer: instance }]),
    ).toBeUndefined();
    expect(
      stream([
        { at, step: 'queued', ahead: 2, message: '3rd in line (2 ahead of you)' },
        { at, status: 409, ...error(409, 'ABORTED'), retryAfterSeconds: 1 },
      ]),
    ).toBeUndefined();
  });

  it('catches a step that is not one, a stream without its answer, and an answer unlike its status', () => {
    expect(
      stream([
        { ...step, step: 'warming' },
        { at, status: 201, answer: instance },
      ]),
    ).toMatch(/must be equal to one of the allowed values/);
    expect(stream([step])).toMatch(/ended without its answer/);
    expect(stream([step, { at, status: 201, answer: { ...instance, state: undefined } }])).toMatch(/must have required property 'state'/);
    expect(stream([step, { at, status: 418, ...error(418, 'TEAPOT') }])).toMatch(/does not declare/);
    expect(
      check({ operation: 'suspend', method: 'POST', status: 200, body: undefined, lines: [step, { at, status: 200, answer: instance }] }),
    ).toMatch(/declares no application\/x-ndjson answer/);
  });
});
