/** A caller whose Google identity token was accepted. */
export interface CallerIdentity {
  /** The verified email, lower-cased: the owner of instances. */
  readonly email: string;
  /** Google's stable account id (`sub`). */
  readonly subject: string;
  readonly kind: 'user' | 'serviceAccount';
  /** The Google Workspace domain of the account (the token's `hd` claim); absent for consumer and service accounts. */
  readonly hostedDomain?: string;
}

const SERVICE_ACCOUNT_DOMAIN = /\.gserviceaccount\.com$/;

export function identityFromClaims(claims: { email: string; sub: string; hd?: string }): CallerIdentity {
  const email = claims.email.toLowerCase();
  return {
    email,
    subject: claims.sub,
    kind: SERVICE_ACCOUNT_DOMAIN.test(email) ? 'serviceAccount' : 'user',
    ...(claims.hd ? { hostedDomain: claims.hd.toLowerCase() } : {}),
  };
}
