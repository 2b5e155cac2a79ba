/**
 * The JSON the functions answer, shared by the server and the typed client.
 * Types only: the published client imports nothing else from shared/.
 */

/** An instance, as create, extend and list answer it. */
export interface Instance {
  readonly name: string;
  readonly owner: string;
  readonly mountName: string;
  readonly accessList: { readonly In: readonly string[] };
  readonly creationTime: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly version: string;
  readonly disk: string;
  /** When the cleanup sweep destroys it; null: never. */
  readonly expiresAt: string | null;
}
