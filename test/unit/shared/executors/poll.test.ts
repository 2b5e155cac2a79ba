import { describe, expect, it } from 'vitest';
import { pollDelays } from '../../../../shared/executors/poll.ts';

describe('pollDelays', () => {
  it('polls every 50 ms for a second, then backs off to 1 s', () => {
    const delays = pollDelays();
    const first = Array.from({ length: 26 }, () => delays.next().value);
    expect(first.slice(0, 20)).toEqual(Array(20).fill(50));
    expect(first.slice(20)).toEqual([75, 113, 170, 255, 383, 575]);
    expect(Array.from({ length: 5 }, () => delays.next().value)).toEqual([863, 1000, 1000, 1000, 1000]);
  });
});
