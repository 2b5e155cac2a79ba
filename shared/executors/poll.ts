/**
 * Delays between polls of a condition that usually settles within a second
 * (a Deployment becoming available or going away): quick steps first, then
 * backing off so that a long wait costs few calls.
 */
export function* pollDelays(options: { quickMs?: number; quickForMs?: number; maxMs?: number } = {}): Generator<number, never> {
  const quick = options.quickMs ?? 50;
  const quickFor = options.quickForMs ?? 1_000;
  const max = options.maxMs ?? 1_000;
  for (let elapsed = 0; elapsed < quickFor; elapsed += quick) yield quick;
  let delay = quick;
  for (;;) {
    delay = Math.min(Math.round(delay * 1.5), max);
    yield delay;
  }
}
