/** A caller whose Google identity token was accepted. */
export interface CallerIdentity {
  /** The verified email, lower-cased: the owner of instances. */
  readonly email: string;
  /** Google's stable account id (`sub`). */
  readonly subject: string;
  readonly kind: 'user' | 'serviceAccount';
}

const SERVICE_ACCOUNT_DOMAIN = /\.gserviceaccount\.com$/;

export function identityFromClaims(claims: { email: string; sub: string }): CallerIdentity {
  const email = claims.email.toLowerCase();
  return { email, subject: claims.sub, kind: SERVICE_ACCOUNT_DOMAIN.test(email) ? 'serviceAccount' : 'user' };
}
