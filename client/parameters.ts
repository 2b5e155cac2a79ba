import { parameterDeclarationsOf, type ParameterDeclaration } from '../shared/api/parameters.ts';

export type { ParameterDeclaration };

/**
 * The parameters an allocator's create takes, as its list function's
 * `/openapi.json` (served without a token) describes them under create's
 * `parameters`: the one description of the API that the server, the CLI and
 * the dashboard all read, so no operation of its own is needed.
 */
export async function fetchParameterDeclarations(listUrl: string, fetchImpl: typeof fetch = fetch): Promise<ParameterDeclaration[]> {
  const url = `${listUrl}/openapi.json`;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parameterDeclarationsOf(await response.json());
}
