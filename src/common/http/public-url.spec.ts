import express from 'express';
import request from 'supertest';
import { parseTrustProxy, publicUrlOf, type TrustProxySetting } from './public-url';

/** An Express app with `trust proxy` set that answers every request with publicUrlOf(req). */
function app(trustProxy: TrustProxySetting) {
  const server = express();
  server.set('trust proxy', trustProxy);
  server.use((req, res) => {
    res.json({ url: publicUrlOf(req) });
  });
  return request(server);
}

describe('publicUrlOf', () => {
  it('is the URL as called, query included, when no proxy is trusted', async () => {
    const res = await app(false).post('/api/webhooks/sms?a=1&b=two').set('Host', 'api.example.com:8000');
    expect(res.body.url).toBe('http://api.example.com:8000/api/webhooks/sms?a=1&b=two');
  });

  it('ignores X-Forwarded-* from a peer that is not trusted (forged headers)', async () => {
    const res = await app(false).post('/api/webhooks/sms').set('Host', 'internal:8000').set('X-Forwarded-Proto', 'https').set('X-Forwarded-Host', 'evil.example');
    expect(res.body.url).toBe('http://internal:8000/api/webhooks/sms');
    const notListed = await app('10.0.0.1').post('/x').set('Host', 'internal').set('X-Forwarded-Proto', 'https').set('X-Forwarded-Host', 'evil.example');
    expect(notListed.body.url).toBe('http://internal/x'); // the test client connects from loopback, not 10.0.0.1
  });

  it('takes scheme and host from X-Forwarded-Proto/-Host behind a trusted proxy', async () => {
    for (const trust of [true, 1, 'loopback', '127.0.0.1/8, ::1/128']) {
      const res = await app(trust).post('/api/webhooks/sms?x=1').set('Host', 'internal:8000').set('X-Forwarded-Proto', 'https').set('X-Forwarded-Host', 'hooks.example.com');
      expect(res.body.url).toBe('https://hooks.example.com/api/webhooks/sms?x=1');
    }
  });

  it('takes the first of several forwarded values (the client-facing proxy)', async () => {
    const res = await app(true).post('/p').set('Host', 'internal').set('X-Forwarded-Proto', 'https, http').set('X-Forwarded-Host', 'a.example:8443, b.internal');
    expect(res.body.url).toBe('https://a.example:8443/p');
  });

  it('keeps the Host header when a trusted proxy sends no X-Forwarded-Host', async () => {
    const res = await app(true).post('/p').set('Host', 'api.example.com').set('X-Forwarded-Proto', 'https');
    expect(res.body.url).toBe('https://api.example.com/p');
  });
});

describe('parseTrustProxy', () => {
  it('reads off, on, hop counts and address lists', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('')).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('TRUE')).toBe(true);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
  });

  it('refuses what Express cannot compile', () => {
    expect(() => parseTrustProxy('yes-please')).toThrow(/proxy addresses/);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow();
  });
});
