export {
  AllocatorClient,
  DEFAULT_LEASE_SECONDS,
  type AllocatorClientOptions,
  type ClusterEvent,
  type CreateOptions,
  type DestroyedInstance,
  type DestroyResult,
  type QueuePosition,
  type Instance,
  type InstanceLease,
  type LogOptions,
  type RetryOptions,
  type ProgressLine,
  type WaitOptions,
  type WatchEvent,
  type WatchOptions,
} from './allocator-client.ts';
export { allocatorEndpoints, type AllocatorEndpoints } from './allocator-url.ts';
export type { Heartbeat, HeartbeatHandlers } from './heartbeat.ts';
export { AllocatorApiError, MissingIdentityError } from './errors.ts';
export { googleIdTokenSource, staticToken, type IdTokenSource } from './id-token.ts';
export type { InstanceState, Problem, SweepReport, TransferAnswer, Transferred } from '../shared/api-types.ts';
export { fetchParameterDeclarations, type ParameterDeclaration } from './parameters.ts';
