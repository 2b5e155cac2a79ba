import { describe, expect, it } from 'vitest';
import { admitsTheWorld, isAllowedCaller, isCallerPattern, namesAccount } from '../../../../shared/auth/allowed-callers.ts';
import type { CallerIdentity } from '../../../../shared/auth/identity.ts';

const user = (email: string, hostedDomain?: string, subject = '1'): CallerIdentity => ({
  email,
  subject,
  kind: 'user',
  ...(hostedDomain ? { hostedDomain } : {}),
});
const serviceAccount = (email: string): CallerIdentity => ({ email, subject: '9', kind: 'serviceAccount' });

describe('isAllowedCaller', () => {
  it.each([
    ['anyone, with no list', user('ada@example.com'), [], [], true],
    ['a Workspace account of the domain', user('ada@example.com', 'example.com'), ['*@example.com'], [], true],
    ['a consumer account with an email at the domain (no hd)', user('ada@example.com'), ['*@example.com'], [], false],
    ['an account of another Workspace domain with an email at this one', user('ada@example.com', 'evil.com'), ['*@example.com'], [], false],
    ['a subdomain', user('ada@sub.example.com', 'sub.example.com'), ['*@example.com'], [], false],
    ['a look-alike domain', user('ada@example.com.evil', 'example.com'), ['*@example.com'], [], false],
    ['another look-alike', user('ada@evilexample.com', 'example.com'), ['*@example.com'], [], false],
    [
      'a service account of the project, which has no hd',
      serviceAccount('ci@p.iam.gserviceaccount.com'),
      ['*@p.iam.gserviceaccount.com'],
      [],
      true,
    ],
    ['a consumer account named exactly', user('bob@gmail.com'), ['bob@gmail.com'], [], true],
    ['another person', user('bob@example.com', 'example.com'), ['ada@example.com'], [], false],
    ['an admin outside the list', user('root@corp.com'), ['*@example.com'], ['root@corp.com'], true],
    ['an account named by its id', user('ada@gmail.com', undefined, '1234'), ['sub:1234'], [], true],
    ['another account with the email, named by id', user('ada@gmail.com', undefined, '999'), ['sub:1234'], [], false],
    [
      'an exact Workspace email from a consumer account of the same address',
      user('ops@example.com'),
      ['ops@example.com'],
      [],
      false, // example.com is a Workspace domain: its *@ pattern is not listed here, so workspaceDomains says so below
    ],
  ] as const)('%s', (_label, caller, allowedCallers, admins, expected) => {
    expect(isAllowedCaller(caller, { allowedCallers, admins, workspaceDomains: ['example.com'] })).toBe(expected);
  });
});

describe('namesAccount: admin and exact-email entries', () => {
  it.each([
    ['the Workspace account itself', 'root@example.com', user('root@example.com', 'example.com'), true],
    ['a consumer account of the same address', 'root@example.com', user('root@example.com'), false],
    ['an account of another organisation with the address', 'root@example.com', user('root@example.com', 'evil.com'), false],
    ['an address outside the Workspace domains, without hd', 'root@gmail.com', user('root@gmail.com'), true],
    [
      'a service account (no hd, its email is its own)',
      'ci@p.iam.gserviceaccount.com',
      serviceAccount('ci@p.iam.gserviceaccount.com'),
      true,
    ],
    ['an id entry, the same account', 'sub:77', user('root@example.com', 'example.com', '77'), true],
    ['an id entry, the address reassigned to another account', 'sub:77', user('root@example.com', 'example.com', '78'), false],
  ] as const)('%s', (_label, entry, caller, expected) => {
    expect(namesAccount(entry, caller, ['example.com'])).toBe(expected);
  });
});

describe('patterns', () => {
  it.each([
    ['*@example.com', true],
    ['ada@example.com', true],
    ['sub:1234567890', true],
    ['sub:abc', false],
    ['example.com', false],
    ['*@*', false],
    ['a*@example.com', false],
  ])('%j is a pattern: %s', (pattern, expected) => {
    expect(isCallerPattern(pattern)).toBe(expected);
  });

  it.each([
    ['*', /every Google account/],
    ['*@gmail.com', /anyone who makes a Google account/],
    ['*@googlemail.com', /anyone/],
    ['*@developer.gserviceaccount.com', /service accounts of every project/],
    ['*@appspot.gserviceaccount.com', /service accounts of every project/],
    ['*@cloudbuild.gserviceaccount.com', /service accounts of every project/],
    ['*@iam.gserviceaccount.com', /service accounts of every project/],
    ['*@gserviceaccount.com', /service accounts of every project/],
  ])('%j admits the world', (pattern, why) => {
    expect(admitsTheWorld(pattern)).toMatch(why);
  });

  it.each(['*@example.com', '*@my-project.iam.gserviceaccount.com', 'ada@gmail.com', 'ci@p.iam.gserviceaccount.com'])(
    '%j does not',
    (pattern) => {
      expect(admitsTheWorld(pattern)).toBeUndefined();
    },
  );
});
