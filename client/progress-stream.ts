/**
 * Reading an operation's progress stream: each step is handed on as it
 * comes, and the last line gives back the status and body the answer would
 * have had, so the caller treats it as any answer.
 */
import { PROGRESS_CONTENT_TYPE, PROGRESS_STEPS, type ProgressLine } from '../shared/api/progress.ts';
import { linesOf } from './log-lines.ts';

export type { ProgressLine };

/** The answer a stream ended with, as a plain answer would have carried it. */
export interface StreamedResult {
  readonly status: number;
  readonly text: string;
  readonly retryAfterMs?: number;
}

/** A stream that ended before its answer: the connection broke, or the server went away mid-operation. */
export class ProgressCutError extends Error {
  override readonly name = 'ProgressCutError';
}

/** Whether the answer is a progress stream (a 4xx from before the operation started is plain JSON). */
export function isProgressStream(response: Response): boolean {
  return response.ok && (response.headers.get('content-type') ?? '').split(';')[0]?.trim() === PROGRESS_CONTENT_TYPE;
}

/** Reads the stream to its end: each step to `onProgress`, and the last line as the answer. */
export async function readProgressStream(response: Response, onProgress: (line: ProgressLine) => void): Promise<StreamedResult> {
  if (!response.body) throw new ProgressCutError('the progress stream had no body');
  for await (const text of linesOf(response.body, false)) {
    if (text.trim() === '') continue;
    const line = JSON.parse(text) as Record<string, unknown>;
    if (typeof line.status === 'number') {
      const body = 'answer' in line ? line.answer : { error: line.error };
      const retryAfterSeconds = typeof line.retryAfterSeconds === 'number' ? line.retryAfterSeconds : undefined;
      return {
        status: line.status,
        text: JSON.stringify(body),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterMs: retryAfterSeconds * 1000 }),
      };
    }
    // A step this client does not know (a newer allocator's) is passed over.
    if (typeof line.step === 'string' && line.step in PROGRESS_STEPS && typeof line.at === 'string')
      onProgress(line as unknown as ProgressLine);
  }
  throw new ProgressCutError('the progress stream ended before its answer');
}
