/** The allocator's API description, as its list function serves it at `/openapi.json` without a token. */
export async function fetchOpenApiDocument(listUrl: string, fetchImpl: typeof fetch = fetch): Promise<unknown> {
  const url = `${listUrl}/openapi.json`;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return await response.json();
}
