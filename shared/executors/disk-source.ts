import { InternalError, NotFoundError } from '../errors.ts';
import { ComputeRejectedError } from '../gce/compute-errors.ts';
import type { DiskSource } from '../gce/disks.ts';

/**
 * The configured disk source cannot be used: a snapshot or image that does
 * not exist, or one Compute Engine refuses. A 500: the caller asked for
 * nothing missing, and only the operator can fix the setting.
 */
export class DiskSourceError extends InternalError {
  override readonly name = 'DiskSourceError';
}

/**
 * What a disk insert's failure means when the disk has a source. Compute
 * Engine answers a `sourceSnapshot` or `sourceImage` that names nothing with
 * 404 notFound ("The resource 'projects/p/global/snapshots/s' was not found"),
 * which would otherwise reach the caller as the 404 of a missing instance, and
 * a malformed one with 400 invalid ("Invalid value for field
 * 'resource.sourceSnapshot'"); both become a DiskSourceError naming the
 * setting. Anything else, including a 404 about another resource (the zone,
 * the disk type), is returned as it was.
 */
export function blameDiskSource(error: unknown, source: DiskSource | undefined): unknown {
  if (source === undefined || !(error instanceof NotFoundError || error instanceof ComputeRejectedError)) return error;
  const [kind, value] = 'snapshot' in source ? (['snapshot', source.snapshot] as const) : (['image', source.image] as const);
  const setting = source.setting ?? `the disk's ${kind}`;
  const field = kind === 'snapshot' ? 'sourceSnapshot' : 'sourceImage';
  // Compute names the source by its path from `global/`, after its project (the disk's own for a partial path).
  const path = value.slice(value.indexOf('global/'));
  const aboutSource = error.message.includes(path) || error.message.includes(`resource.${field}`);
  if (error instanceof NotFoundError && aboutSource)
    return new DiskSourceError(
      `${setting} names ${kind === 'image' ? 'an' : 'a'} ${kind} that does not exist (${value}): make it, or point ${setting} at one that does (${error.message})`,
      { cause: error },
    );
  if (error instanceof ComputeRejectedError && error.upstreamStatus === 400) {
    if (aboutSource) return new DiskSourceError(`Compute Engine refused ${setting} (${value}): ${error.message}`, { cause: error });
    if (new RegExp(`smaller than the ${kind} size`).test(error.message))
      return new DiskSourceError(`ALLOCATOR_DISK_SIZE_GB is smaller than the ${kind} ${setting} names (${value}): ${error.message}`, {
        cause: error,
      });
  }
  return error;
}
