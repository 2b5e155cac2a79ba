import { parameterDeclarationsOf, type ParameterDeclaration } from '../shared/api/parameters.ts';
import { fetchOpenApiDocument } from './openapi-document.ts';

export type { ParameterDeclaration };

/**
 * The parameters an allocator's create takes, as its list function's
 * `/openapi.json` (served without a token) describes them under create's
 * `parameters`: the one description of the API that the server, the CLI and
 * the dashboard all read, so no operation of its own is needed.
 */
export async function fetchParameterDeclarations(listUrl: string, fetchImpl: typeof fetch = fetch): Promise<ParameterDeclaration[]> {
  return parameterDeclarationsOf(await fetchOpenApiDocument(listUrl, fetchImpl));
}
