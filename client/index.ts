export { AllocatorClient, type AllocatorClientOptions, type CreateOptions, type Instance, type RetryOptions } from './allocator-client.ts';
export { allocatorEndpoints, type AllocatorEndpoints } from './allocator-url.ts';
export { AllocatorApiError, MissingIdentityError } from './errors.ts';
export { googleIdTokenSource, staticToken, type IdTokenSource } from './id-token.ts';
