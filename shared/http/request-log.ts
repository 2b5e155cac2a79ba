/** One structured line per request, in Cloud Logging's JSON format. Never holds a token. */
export interface RequestLogEntry {
  readonly function: string;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly caller?: string;
  readonly instance?: string;
  readonly userAgent?: string;
  readonly remoteIp?: string;
  readonly message: string;
  /** For failures: the error and its causes, one line each. */
  readonly error?: string;
  /** What the operation reported on the way, such as an undo that failed. */
  readonly events?: readonly string[];
  /** Numbers for log-based metrics, such as the sweep's counts. */
  readonly details?: Readonly<Record<string, number>>;
}

export type LogSink = (line: string) => void;

/** Writes one line to stdout, which Cloud Run sends to Cloud Logging. */
export const stdoutLog: LogSink = (line) => void process.stdout.write(`${line}\n`);

export function severityOf(status: number): 'INFO' | 'WARNING' | 'ERROR' {
  if (status >= 500) return 'ERROR';
  if (status >= 400) return 'WARNING';
  return 'INFO';
}

export function formatRequestLog(entry: RequestLogEntry): string {
  return JSON.stringify({
    severity: severityOf(entry.status),
    message: entry.message,
    httpRequest: {
      requestMethod: entry.method,
      requestUrl: entry.url,
      status: entry.status,
      latency: `${(entry.latencyMs / 1000).toFixed(3)}s`,
      ...(entry.userAgent ? { userAgent: entry.userAgent } : {}),
      ...(entry.remoteIp ? { remoteIp: entry.remoteIp } : {}),
    },
    function: entry.function,
    ...(entry.caller ? { caller: entry.caller } : {}),
    ...(entry.instance ? { instance: entry.instance } : {}),
    latencyMs: entry.latencyMs,
    ...(entry.error ? { error: entry.error } : {}),
    ...(entry.events && entry.events.length > 0 ? { events: entry.events } : {}),
    ...(entry.details && Object.keys(entry.details).length > 0 ? { details: entry.details } : {}),
  });
}

/** An error and its causes, as text for the log (messages only: they are ours or the clients', never a token). */
export function describeErrorChain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(' <- ');
}
