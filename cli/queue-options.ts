import type { CreateOptions } from '../client/allocator-client.ts';
import { describePosition } from '../shared/api/queue-position.ts';
import { seconds, UsageError, type OptionValues } from './command.ts';
import type { Progress } from './progress.ts';

/** The queue's flags: `create` takes `--queue`; `run` queues unless `--no-queue`; both take `--queue-timeout`. */
export const queueOptions = {
  queue: { type: 'boolean' },
  'no-queue': { type: 'boolean' },
  'queue-timeout': { type: 'string' },
} as const;

/**
 * What a create sends for the queue flags, and the line it shows while in
 * line: `queued: 3rd in line (2 ahead of you)`.
 */
export function queueCreateOptions(
  values: OptionValues,
  options: { byDefault: boolean; progress: Progress },
): Pick<CreateOptions, 'queue' | 'queueTimeoutSeconds' | 'onQueued'> {
  if (values.queue === true && values['no-queue'] === true) throw new UsageError('--queue and --no-queue contradict each other');
  const queue = values.queue === true || (options.byDefault && values['no-queue'] !== true);
  if (!queue) {
    if (values['queue-timeout'] !== undefined) throw new UsageError('--queue-timeout needs the queue (--queue)');
    return {};
  }
  const timeout = values['queue-timeout'] === undefined ? undefined : seconds(values, 'queue-timeout', 0);
  return {
    queue: true,
    ...(timeout === undefined ? {} : { queueTimeoutSeconds: timeout }),
    onQueued: (place) => options.progress.update(`queued: ${describePosition(place)}`),
  };
}
