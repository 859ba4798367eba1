import type { RawBodyRequest } from '@nestjs/common';
import express, { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { problem, PROBLEM_CONTENT_TYPE } from '../errors/problem-details';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Deepest nesting of arrays and objects a request body may have; deeper ones are refused, not recursed into. */
export const MAX_JSON_DEPTH = 32;

/**
 * Most values (objects, arrays, strings, numbers, booleans, nulls, at any depth) a
 * request body may hold. Validation copies every value of a body (class-transformer,
 * a few microseconds each, and quadratic in the keys of one object), so a 2 MB body of
 * 900,000 tiny values held the process for seconds, one object of 150,000 keys for
 * most of a minute. A message is a few dozen values; a provider's webhook a few hundred.
 */
export const MAX_JSON_VALUES = 10_000;

/** Keys that could reach an object's prototype when a body is merged or copied (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const NUL_MESSAGE = 'must not contain NUL characters';

/**
 * Finds what makes a parsed JSON body unsafe to hand to validation: nesting deeper
 * than {@link MAX_JSON_DEPTH} (recursive validators would overflow the stack), more
 * than {@link MAX_JSON_VALUES} values (validation would take seconds), a
 * `__proto__`/`constructor`/`prototype` key anywhere, or a NUL character in any string
 * or key (PostgreSQL text cannot hold one; also in fields a webhook ignores).
 * Iterative, so any depth is safe, and it stops counting at the limit, so any size is quick.
 * @returns the offending path and why, or null when the body is fine
 */
export function unsafeJsonProblem(body: unknown): { field: string; message: string } | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '$', depth: 0 }];
  let values = 1;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string' && value.includes('\u0000')) return { field: path, message: NUL_MESSAGE };
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    const keys = Object.keys(value);
    values += keys.length;
    if (values > MAX_JSON_VALUES) return { field: path, message: `makes the body hold more than ${MAX_JSON_VALUES.toLocaleString('en-US')} values` };
    for (const key of keys) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : path === '$' ? key : `${path}.${key}`;
      if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) return { field: childPath, message: 'is not an allowed field name' };
      if (key.includes('\u0000')) return { field: childPath.replace(/\u0000/g, '\\u0000'), message: NUL_MESSAGE };
      stack.push({ value: (value as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return null;
}

/** Options of {@link jsonBodyParser}. */
export interface JsonBodyParserOptions {
  /**
   * Requests whose exact body bytes are kept as `req.rawBody` (a Buffer, after any
   * Content-Encoding is undone, before the JSON is parsed; Nest's RawBodyRequest), for
   * checks that must see the bytes as sent, such as webhook signatures. None by default.
   */
  keepRawBody?: (req: Request) => boolean;
}

/**
 * Answers 413 (problem+json) at once to a request whose Content-Length already exceeds
 * `limit` bytes, before any of its body is read, and closes the connection after the
 * answer (`Connection: close`) so the rest of the body is never read either. The body
 * parser alone would read the whole body before it answers 413. A body without
 * Content-Length (chunked) is counted by the body parser and refused once it passes
 * the limit.
 * @param limit the largest body accepted, bytes
 */
export function rejectOversizedBody(limit: number): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared === undefined || !/^\d+$/.test(declared) || Number(declared) <= limit) return next();
    const body = problem(413, 'payload_too_large', 'Payload too large', `The request body exceeds the size limit of ${limit} bytes.`);
    // A gzip/deflate body's Content-Length counts compressed bytes, which never fall far
    // below what they inflate to: over the limit compressed is over it inflated.
    res.status(413).set('Connection', 'close').type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  };
}

/**
 * express.json() limited to `limit` bytes, for JSON
 * media types only, followed by the {@link unsafeJsonProblem} check (422). Parsing
 * errors are answered by {@link bodyParsingErrorHandler}.
 */
export function jsonBodyParser(limit: number, options: JsonBodyParserOptions = {}): RequestHandler {
  const { keepRawBody } = options;
  const parse = express.json({
    limit,
    type: JSON_TYPES,
    strict: false,
    verify: keepRawBody
      ? (req, _res, buffer) => {
          if (keepRawBody(req as Request)) (req as RawBodyRequest<Request>).rawBody = buffer;
        }
      : undefined,
  });
  return (req, res, next) =>
    parse(req, res, (error?: unknown) => {
      if (error) return next(error);
      const unsafe = unsafeJsonProblem(req.body);
      if (!unsafe) return next();
      const body = problem(422, 'validation_failed', 'Validation failed', 'The request body or parameters are invalid.', [unsafe]);
      res.status(422).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
    });
}

/**
 * Answers 415 (problem+json) to a request that carries a body in a media type other
 * than JSON; requests without a body pass.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.is(JSON_TYPES)) return next();
  const body = problem(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body as application/json.');
  res.status(415).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
};

/**
 * Error middleware placed right after the body parser: malformed JSON 400 (also a
 * body that does not decompress as its Content-Encoding says, or that was cut off),
 * body over the limit 413, unsupported charset or encoding 415, all as problem+json.
 */
export const bodyParsingErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  const { type, code: errorCode } = err as { type?: string; code?: unknown };
  const answers: Record<string, [number, string, string, string]> = {
    'entity.parse.failed': [400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.'],
    'entity.too.large': [413, 'payload_too_large', 'Payload too large', 'The request body exceeds the size limit.'],
    // The client went away, or sent fewer bytes than its Content-Length: no server error.
    'request.aborted': [400, 'malformed_body', 'Malformed body', 'The request body was cut off.'],
    'request.size.invalid': [400, 'malformed_body', 'Malformed body', 'The request body does not match its Content-Length.'],
    'charset.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'Use a UTF-8 JSON body.'],
    'encoding.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'The content encoding is not supported.'],
  };
  const corrupt = typeof errorCode === 'string' && errorCode.startsWith('Z_'); // zlib: not what Content-Encoding says
  const limit = (err as { limit?: unknown }).limit;
  if (type === 'entity.too.large' && typeof limit === 'number') {
    answers[type][3] = `The request body exceeds the size limit of ${limit} bytes.`;
  }
  const answer: [number, string, string, string] | undefined = corrupt
    ? [400, 'malformed_body', 'Malformed body', 'The request body does not decode as its Content-Encoding says.']
    : type ? answers[type] : undefined;
  if (!answer) return next(err);
  const [status, code, title, detail] = answer;
  res.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem(status, code, title, detail)));
};
