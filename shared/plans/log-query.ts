/**
 * How long a followed log stream runs before the list function ends it
 * cleanly: the list function is deployed with a 60 s timeout
 * (cloudbuild.yaml), and a stream cut by Cloud Run would end without the
 * last bytes flushed. The client resumes from the last line it read.
 */
export const FOLLOW_LIMIT_MS = 55_000;

/** What a read of an instance's logs asks for, as the Kubernetes log API takes it. */
export interface LogQuery {
  readonly follow: boolean;
  /** Lines written in the last this many seconds only. */
  readonly sinceSeconds?: number;
  /** Lines written at or after this RFC 3339 time only (a resume's). */
  readonly sinceTime?: string;
  /** The last this many lines only. */
  readonly tailLines?: number;
}

/** The query string of the Kubernetes log API for `query` on `container`, always with each line's timestamp. */
export function logApiParams(query: LogQuery, container: string): URLSearchParams {
  const params = new URLSearchParams({ container, timestamps: 'true', follow: String(query.follow) });
  if (query.sinceTime !== undefined) params.set('sinceTime', query.sinceTime);
  else if (query.sinceSeconds !== undefined) params.set('sinceSeconds', String(query.sinceSeconds));
  if (query.tailLines !== undefined) params.set('tailLines', String(query.tailLines));
  return params;
}
