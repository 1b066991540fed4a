import type { Secret } from '@hafence/core';

/** How requests to one BMC authenticate: a session token, or HTTP Basic when the user allowed it. */
export type RedfishAuth =
  | { readonly kind: 'session'; readonly token: string; readonly path?: string }
  | { readonly kind: 'basic' };

/** The account of a BMC. The password is read with `reveal()` only where it is sent. */
export interface RedfishAccount {
  readonly username: string;
  readonly password: Secret;
}

/** The header that carries `auth` (`X-Auth-Token`, or `Authorization: Basic`). */
export function authHeaders(auth: RedfishAuth, account: RedfishAccount): Record<string, string> {
  if (auth.kind === 'session') return { 'X-Auth-Token': auth.token };
  const basic = Buffer.from(`${account.username}:${account.password.reveal()}`, 'utf8').toString('base64');
  return { Authorization: `Basic ${basic}` };
}

/** The body of a session login (`POST …/SessionService/Sessions`). */
export function loginBody(account: RedfishAccount): { UserName: string; Password: string } {
  return { UserName: account.username, Password: account.password.reveal() };
}
