import { describe, expect, it } from 'vitest';
import { localFunctionEnv } from '../../../local/local-env.ts';

const STACK = 'http://127.0.0.1:8080/allocator';
const stack = { ALLOCATOR_AUDIENCES: STACK, ALLOCATOR_URL: STACK, ALLOCATOR_MAX_INSTANCES: '10' };

describe("npm run local's function environment", () => {
  it("is the stack's own settings without ALLOCATOR_* variables of the user's", () => {
    expect(localFunctionEnv(stack, { HOME: '/home/ada', PATH: '/bin' })).toEqual(stack);
  });

  it("lets the user's ALLOCATOR_* settings win", () => {
    expect(localFunctionEnv(stack, { ALLOCATOR_MAX_INSTANCES: '3', ALLOCATOR_VERSION: 'v2', OTHER: 'x' })).toEqual({
      ...stack,
      ALLOCATOR_MAX_INSTANCES: '3',
      ALLOCATOR_VERSION: 'v2',
    });
  });

  it("adds the user's ALLOCATOR_AUDIENCES to the stack's own URL, whose tokens its instructions mint", () => {
    expect(localFunctionEnv(stack, { ALLOCATOR_AUDIENCES: '32555940559.apps.googleusercontent.com' })).toEqual({
      ...stack,
      ALLOCATOR_AUDIENCES: `${STACK},32555940559.apps.googleusercontent.com`,
    });
  });

  it('lists the stack URL once when the user names it too, and keeps it when the user sets an empty list', () => {
    expect(localFunctionEnv(stack, { ALLOCATOR_AUDIENCES: ` ${STACK} , other.test,` }).ALLOCATOR_AUDIENCES).toBe(`${STACK},other.test`);
    expect(localFunctionEnv(stack, { ALLOCATOR_AUDIENCES: '' }).ALLOCATOR_AUDIENCES).toBe(STACK);
  });
});
