import { createHash } from 'crypto';
import fc from 'fast-check';
import { requestFingerprint } from './idempotency-fingerprint';

/** The same JSON value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
}

describe('requestFingerprint', () => {
  const body = { from: '+12015550100', to: '+12015550123', type: 'sms', body: 'hi', attachments: [], timestamp: '2024-11-01T14:00:00Z' };

  it('is the SHA-256 hex of method, route and the RFC 8785 canonical JSON of the body', () => {
    const expected = createHash('sha256').update('POST /api/messages/sms\n{"a":[2,1,{"c":null,"d":"\\u0000é"}],"b":1.5}').digest('hex');
    expect(requestFingerprint('post', '/api/messages/sms', { b: 1.5, a: [2, 1, { d: '\u0000é', c: null }] })).toBe(expected);
  });

  it('ignores key order and white space of the JSON as sent', () => {
    const a = JSON.parse('{"to":"+12015550123","from":"+12015550100","body":"hi"}');
    const b = JSON.parse('{ "body" : "hi",\n  "from":"+12015550100", "to" : "+12015550123" }');
    expect(requestFingerprint('POST', '/x', a)).toBe(requestFingerprint('POST', '/x', b));
  });

  it('ignores key order at any depth (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = JSON.parse(JSON.stringify(value));
        expect(requestFingerprint('POST', '/x', reversedKeys(parsed))).toBe(requestFingerprint('POST', '/x', parsed));
      }),
    );
  });

  it.each([
    ['a changed value', { ...body, body: 'hi!' }],
    ['an added field', { ...body, colour: 'red' }],
    ['a dropped field', { ...body, timestamp: undefined }],
    ['null instead of an empty list', { ...body, attachments: null }],
    ['a number as a string', { ...body, body: 1 }],
  ])('changes with %s', (_, other) => {
    expect(requestFingerprint('POST', '/api/messages/sms', other)).not.toBe(requestFingerprint('POST', '/api/messages/sms', body));
  });

  it('keeps the order of list items', () => {
    expect(requestFingerprint('POST', '/x', { a: [1, 2] })).not.toBe(requestFingerprint('POST', '/x', { a: [2, 1] }));
  });

  it('changes with the endpoint and the method', () => {
    const sms = requestFingerprint('POST', '/api/messages/sms', body);
    expect(requestFingerprint('POST', '/messages/send', body)).not.toBe(sms);
    expect(requestFingerprint('PUT', '/api/messages/sms', body)).not.toBe(sms);
  });

  it('reads no body as null, and gives 64 lower-case hex characters', () => {
    expect(requestFingerprint('POST', '/x', undefined)).toBe(requestFingerprint('POST', '/x', null));
    expect(requestFingerprint('POST', '/x', undefined)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fingerprints a body with a number beyond the double range (JSON.parse reads 1e400 as Infinity) without failing', () => {
    const huge = JSON.parse('{"n":1e400,"m":[-1e400]}');
    const fingerprint = requestFingerprint('POST', '/x', huge);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(requestFingerprint('POST', '/x', JSON.parse('{"n":1e400,"m":[-1e400]}'))).toBe(fingerprint);
    expect(requestFingerprint('POST', '/x', JSON.parse('{"n":1e400,"m":[1e400]}'))).not.toBe(fingerprint);
    expect(requestFingerprint('POST', '/x', { n: 'Infinity', m: ['-Infinity'] })).not.toBe(fingerprint);
    expect(requestFingerprint('POST', '/x', { n: null, m: [null] })).not.toBe(fingerprint);
  });
});
