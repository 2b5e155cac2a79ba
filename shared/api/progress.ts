/**
 * The progress an operation that brings an instance up streams when the
 * caller asks for it (`Accept: application/x-ndjson`): one JSON line per
 * step as it happens, then one line with the usual answer or error.
 */

import type { Problem } from '../api-types.ts';
import { describePosition } from './queue-position.ts';

export const PROGRESS_CONTENT_TYPE = 'application/x-ndjson';

/** Each step, in the order an instance passes them: what it means (for the API's description), and the words a person is shown. */
export const PROGRESS_STEPS = {
  queued: {
    meaning: 'Waiting in line for a slot; `ahead` says how many are before it.',
    says: (line: StepDetail) => describePosition({ position: (line.ahead ?? 0) + 1, ahead: line.ahead ?? 0 }),
  },
  slots: { meaning: 'Its place in the limits is taken.', says: () => 'slot taken' },
  disk: {
    meaning: 'Its disk is there: made, taken from the warm pool (`pooled`), or made anew by a reset.',
    says: (line: StepDetail) => (line.pooled ? 'disk taken from the warm pool' : 'disk ready'),
  },
  stopped: { meaning: "Its pods are gone (a reset's first step, before the old disk goes).", says: () => 'pods stopped' },
  deployment: {
    meaning: 'Its Deployment is made or changed; Kubernetes now brings up its pods.',
    says: () => 'Deployment sent to Kubernetes',
  },
  scheduled: { meaning: 'A node was found for its pod.', says: () => 'pod scheduled on a node' },
  pulled: { meaning: "Its pod's images are on the node.", says: () => 'image pulled' },
  started: { meaning: "Its pod's containers are running.", says: () => 'containers started' },
  problems: {
    meaning: 'Something keeps it from starting for now, as `problems` says; a problem that will not mend ends the operation instead.',
    says: (line: StepDetail) => `waiting: ${(line.problems ?? []).map((problem) => `${problem.reason}: ${problem.message}`).join('; ')}`,
  },
  ready: { meaning: 'It is ready: its pods answer their readiness checks.', says: () => 'ready' },
} as const satisfies Record<string, { meaning: string; says: (line: StepDetail) => string }>;

export type ProgressStep = keyof typeof PROGRESS_STEPS;

/** What a step may say besides its name. */
export interface StepDetail {
  /** With `queued`: how many are in line before it. */
  readonly ahead?: number;
  /** With `disk`: whether it came from the warm pool. */
  readonly pooled?: boolean;
  /** With `problems`: what keeps it from starting. */
  readonly problems?: readonly Problem[];
}

/** One step as it is streamed. */
export interface ProgressLine extends StepDetail {
  readonly at: string;
  readonly step: ProgressStep;
  /** The instance, once known (a create draws its name first). */
  readonly name?: string;
  /** The step in words, for a person. */
  readonly message: string;
}

/** What an executor tells of its steps; a request that did not ask for progress gets none. */
export type ProgressSink = (step: ProgressStep, detail?: StepDetail) => void;

/** A step as it goes out: its time, the instance and its words beside what the executor told. */
export function progressLine(step: ProgressStep, detail: StepDetail, context: { at: Date; name?: string | undefined }): ProgressLine {
  return {
    at: context.at.toISOString(),
    step,
    ...(context.name === undefined ? {} : { name: context.name }),
    ...detail,
    message: PROGRESS_STEPS[step].says(detail),
  };
}

/** Whether a request's Accept header asks for the progress stream. */
export function asksForProgress(accept: string | string[] | undefined): boolean {
  const values = Array.isArray(accept) ? accept : accept === undefined ? [] : [accept];
  return values
    .flatMap((value) => value.split(','))
    .some((type) => {
      const [name, ...params] = type.trim().toLowerCase().split(';');
      const refused = params.some((param) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(param));
      return name?.trim() === PROGRESS_CONTENT_TYPE && !refused;
    });
}
