import express, { type Request } from 'express';

/** Express's `trust proxy` setting: off, on, a hop count, or the addresses of the trusted proxies. */
export type TrustProxySetting = boolean | number | string;

/**
 * Reads TRUST_PROXY into Express's `trust proxy` setting
 * (https://expressjs.com/en/guide/behind-proxies.html): `false`/unset trusts no proxy,
 * `true` trusts every hop, a whole number trusts that many hops, anything else is a
 * comma-separated list of addresses, CIDR subnets or the names `loopback`, `linklocal`
 * and `uniquelocal`, checked by Express itself.
 * @param raw the variable's value; undefined or empty means unset
 * @returns the setting for `app.set('trust proxy', ...)`
 * @throws Error when the list holds something that is not an IP address or subnet
 */
export function parseTrustProxy(raw: string | undefined): TrustProxySetting {
  const value = raw?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  const setting: TrustProxySetting = /^\d+$/.test(value) ? Number(value) : value;
  try {
    express().set('trust proxy', setting); // Express compiles the list here and throws on a bad address
  } catch (error) {
    throw new Error(`must be true, false, a hop count or a list of proxy addresses/subnets (${(error as Error).message})`);
  }
  return setting;
}

/**
 * The URL a client called, as the public sees it: scheme, host (with port, if the
 * client sent one) and the original path with its query string. Behind a trusted proxy
 * (the app's `trust proxy` setting, TRUST_PROXY) the scheme comes from
 * `X-Forwarded-Proto` and the host from `X-Forwarded-Host` (the first value of each when
 * a list), as Express reads them; from an untrusted peer those headers are ignored.
 * Webhook schemes that sign the URL (Twilio's X-Twilio-Signature) verify against this.
 * Without any Host header the server's own address stands in.
 * @returns an absolute URL such as `https://api.example.com/api/webhooks/sms?x=1`
 */
export function publicUrlOf(req: Request): string {
  const local = req.socket.localAddress ?? '127.0.0.1';
  const host = req.host ?? `${local.includes(':') ? `[${local}]` : local}:${req.socket.localPort}`;
  return `${req.protocol}://${host}${req.originalUrl}`;
}
