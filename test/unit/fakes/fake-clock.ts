import type { Clock } from '../../../shared/clock.ts';

/** A clock whose sleeps pass at once, moving its time on. */
export class FakeClock implements Clock {
  #now: number;
  constructor(start = Date.parse('2026-11-25T12:00:00.000Z')) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  async sleep(ms: number): Promise<void> {
    this.#now += ms;
    await Promise.resolve();
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}
