import type { Request, Response } from 'express';
import { MAX_JSON_DEPTH, MAX_JSON_VALUES, rejectOversizedBody, unsafeJsonProblem } from './body-parsing';

describe('unsafeJsonProblem', () => {
  it('passes ordinary bodies', () => {
    expect(unsafeJsonProblem({ a: [1, { b: 'c' }], d: null })).toBeNull();
    expect(unsafeJsonProblem('text')).toBeNull();
  });

  it('allows nesting up to the limit and names the path past it', () => {
    const nest = (depth: number): unknown => (depth === 0 ? 1 : { a: nest(depth - 1) });
    expect(unsafeJsonProblem(nest(MAX_JSON_DEPTH))).toBeNull();
    const problem = unsafeJsonProblem(nest(MAX_JSON_DEPTH + 1));
    expect(problem?.field).toBe(`a${'.a'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it('walks any depth without recursion', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unsafeJsonProblem({ body: deep })?.message).toMatch(/deeper/);
  });

  it('finds prototype keys anywhere, as JSON.parse creates them', () => {
    expect(unsafeJsonProblem(JSON.parse('{"__proto__":{"x":1}}'))).toEqual({ field: '__proto__', message: 'is not an allowed field name' });
    expect(unsafeJsonProblem(JSON.parse('{"a":[{"constructor":{}}]}'))?.field).toBe('a[0].constructor');
    expect(unsafeJsonProblem({ list: ['prototype'] })).toBeNull(); // a value, not a key
  });

  it('allows up to MAX_JSON_VALUES values in all and names where a body goes past them', () => {
    // Found by the property-based suite: 900,000 tiny values, or one object of 150,000 keys, held validation for seconds to a minute.
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0]));
    expect(unsafeJsonProblem(keys(MAX_JSON_VALUES - 1))).toBeNull(); // the object itself is one value
    expect(unsafeJsonProblem(keys(MAX_JSON_VALUES))).toEqual({ field: '$', message: 'makes the body hold more than 10,000 values' });
    expect(unsafeJsonProblem({ to: 'x', attachments: new Array(900_000).fill(1) })).toEqual({ field: 'attachments', message: 'makes the body hold more than 10,000 values' });
    const spread = { a: Array.from({ length: 100 }, () => new Array(99).fill('x')) }; // 1 + 1 + 100 + 9,900 values
    expect(unsafeJsonProblem(spread)?.field).toMatch(/^a\[\d+\]$/);
    expect(unsafeJsonProblem({ a: Array.from({ length: 100 }, () => new Array(98).fill('x')) })).toBeNull();
  });
});

describe('unsafeJsonProblem: NUL characters', () => {
  it('finds a NUL in any string value, at any depth, and names its path', () => {
    expect(unsafeJsonProblem({ body: 'a\u0000b' })).toEqual({ field: 'body', message: 'must not contain NUL characters' });
    expect(unsafeJsonProblem({ a: [{ b: ['ok', '\u0000'] }] })?.field).toBe('a[0].b[1]');
    expect(unsafeJsonProblem('\u0000')?.field).toBe('$');
  });

  it('finds a NUL in a key, and writes it escaped in the path', () => {
    expect(unsafeJsonProblem(JSON.parse('{"a":{"x\\u0000y":1}}'))).toEqual({ field: 'a.x\\u0000y', message: 'must not contain NUL characters' });
  });

  it('passes other control characters and non-strings', () => {
    expect(unsafeJsonProblem({ body: 'tab\there\u0001', n: 0, f: false, z: null })).toBeNull();
  });
});

describe('rejectOversizedBody', () => {
  /** Runs the middleware on a request with `contentLength`; returns whether it passed and what it answered. */
  function run(contentLength: string | undefined): { passed: boolean; status?: number; headers: Record<string, string>; body?: string } {
    const out: { passed: boolean; status?: number; headers: Record<string, string>; body?: string } = { passed: false, headers: {} };
    const res = {
      status(code: number) {
        out.status = code;
        return this;
      },
      set(name: string, value: string) {
        out.headers[name.toLowerCase()] = value;
        return this;
      },
      type(type: string) {
        out.headers['content-type'] = type;
        return this;
      },
      send(body: string) {
        out.body = body;
        return this;
      },
    };
    const req = { headers: contentLength === undefined ? {} : { 'content-length': contentLength } };
    rejectOversizedBody(1024)(req as unknown as Request, res as unknown as Response, () => (out.passed = true));
    return out;
  }

  it('passes bodies up to the limit, and requests without Content-Length', () => {
    for (const length of [undefined, '0', '1024', 'nonsense']) expect(run(length).passed).toBe(true);
  });

  it('answers 413 problem+json and closes the connection past the limit', () => {
    const out = run('1025');
    expect(out).toMatchObject({ passed: false, status: 413, headers: { connection: 'close', 'content-type': 'application/problem+json' } });
    expect(JSON.parse(out.body!)).toMatchObject({ status: 413, code: 'payload_too_large', detail: expect.stringContaining('1024 bytes') });
    expect(run('99999999999999999999').status).toBe(413);
  });
});
