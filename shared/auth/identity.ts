/** A caller whose Google identity token was accepted. */
export interface CallerIdentity {
  /** The verified email, lower-cased: the owner of instances. */
  readonly email: string;
  /** Google's stable account id (`sub`): unlike the email, never given to another account. */
  readonly subject: string;
  readonly kind: 'user' | 'serviceAccount';
  /** The Google Workspace domain of the account (the token's `hd` claim); absent for consumer and service accounts. */
  readonly hostedDomain?: string;
  /**
   * The token was minted for a client id other services share (gcloud's), so
   * it may have been replayed from any of them: it acts for its holder's own
   * instances only, never with an admin's powers.
   */
  readonly sharedAudience?: true;
}

/**
 * gcloud's OAuth client id: `gcloud auth print-identity-token` mints tokens for
 * it, so every service a person calls that way receives tokens that would
 * replay here.
 */
export const GCLOUD_CLIENT_ID = '32555940559.apps.googleusercontent.com';

/** Client ids whose tokens are not bound to this allocator. */
export const SHARED_AUDIENCES: readonly string[] = [GCLOUD_CLIENT_ID];

const SERVICE_ACCOUNT_DOMAIN = /\.gserviceaccount\.com$/;

export function identityFromClaims(claims: { email: string; sub: string; hd?: string; aud: string }): CallerIdentity {
  const email = claims.email.toLowerCase();
  return {
    email,
    subject: claims.sub,
    kind: SERVICE_ACCOUNT_DOMAIN.test(email) ? 'serviceAccount' : 'user',
    ...(claims.hd ? { hostedDomain: claims.hd.toLowerCase() } : {}),
    ...(SHARED_AUDIENCES.includes(claims.aud) ? { sharedAudience: true as const } : {}),
  };
}
