/**
 * The sign-in settings an allocator publishes for `allocator login`, as
 * `info['x-allocator-sign-in']` of the list function's `/openapi.json`
 * (served without a token): the OAuth client of type "Desktop app" and
 * Google's endpoints, or the local stand-ins.
 */
export interface SignInSettings {
  readonly clientId: string;
  /**
   * Google treats a Desktop app's client secret as not confidential (every
   * copy of the app carries it; PKCE protects the code), yet its token
   * endpoint still requires it, so it is published with the client id.
   */
  readonly clientSecret?: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint?: string;
}

/** Where in the OpenAPI document the settings are. */
export const SIGN_IN_EXTENSION = 'x-allocator-sign-in';

/** The settings from a parsed `/openapi.json`, undefined when it has none; throws on a malformed one. */
export function signInSettingsOf(document: unknown): SignInSettings | undefined {
  const info = (document as { info?: Record<string, unknown> } | null)?.info;
  const raw = info?.[SIGN_IN_EXTENSION];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null) throw new Error(`info.${SIGN_IN_EXTENSION} is not an object`);
  const fields = raw as Record<string, unknown>;
  const text = (key: keyof SignInSettings, required: boolean): string | undefined => {
    const value = fields[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') throw new Error(`info.${SIGN_IN_EXTENSION}.${key} is missing or not a string`);
    if (key.endsWith('Endpoint') && !/^https?:\/\//.test(value)) throw new Error(`info.${SIGN_IN_EXTENSION}.${key} is not an http(s) URL`);
    return value;
  };
  const clientSecret = text('clientSecret', false);
  const revocationEndpoint = text('revocationEndpoint', false);
  return {
    clientId: text('clientId', true) as string,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    authorizationEndpoint: text('authorizationEndpoint', true) as string,
    tokenEndpoint: text('tokenEndpoint', true) as string,
    ...(revocationEndpoint === undefined ? {} : { revocationEndpoint }),
  };
}
