/** Milliseconds since the epoch; unknown or unreadable times are Infinity, so they never count as old. */
export function timeOf(value: Date | string | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(time) ? time : Number.POSITIVE_INFINITY;
}
