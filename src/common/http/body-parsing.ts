import express, { ErrorRequestHandler, RequestHandler } from 'express';
import { problem, PROBLEM_CONTENT_TYPE } from '../errors/problem-details';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** Deepest nesting of arrays and objects a request body may have; deeper ones are refused, not recursed into. */
export const MAX_JSON_DEPTH = 32;

/** Keys that could reach an object's prototype when a body is merged or copied (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Finds what makes a parsed JSON body unsafe to hand to validation: nesting deeper
 * than {@link MAX_JSON_DEPTH} (recursive validators would overflow the stack) or a
 * `__proto__`/`constructor`/`prototype` key anywhere. Iterative, so any depth is safe.
 * @returns the offending path and why, or null when the body is fine
 */
export function unsafeJsonProblem(body: unknown): { field: string; message: string } | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '$', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const childPath = Array.isArray(value) ? `${path}[${key}]` : path === '$' ? key : `${path}.${key}`;
      if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) return { field: childPath, message: 'is not an allowed field name' };
      stack.push({ value: (value as Record<string, unknown>)[key], path: childPath, depth: depth + 1 });
    }
  }
  return null;
}

/**
 * express.json() limited to `limit` (bytes or a size string such as `2mb`), for JSON
 * media types only, followed by the {@link unsafeJsonProblem} check (422). Parsing
 * errors are answered by {@link bodyParsingErrorHandler}.
 */
export function jsonBodyParser(limit: string | number): RequestHandler {
  const parse = express.json({ limit, type: JSON_TYPES, strict: false });
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
 * body that does not decompress as its Content-Encoding says), body over the limit
 * 413, unsupported charset or encoding 415, all as problem+json.
 */
export const bodyParsingErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  const { type, code: errorCode } = err as { type?: string; code?: unknown };
  const answers: Record<string, [number, string, string, string]> = {
    'entity.parse.failed': [400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.'],
    'entity.too.large': [413, 'payload_too_large', 'Payload too large', 'The request body exceeds the size limit.'],
    'charset.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'Use a UTF-8 JSON body.'],
    'encoding.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'The content encoding is not supported.'],
  };
  const corrupt = typeof errorCode === 'string' && errorCode.startsWith('Z_'); // zlib: not what Content-Encoding says
  const answer: [number, string, string, string] | undefined = corrupt
    ? [400, 'malformed_body', 'Malformed body', 'The request body does not decode as its Content-Encoding says.']
    : type ? answers[type] : undefined;
  if (!answer) return next(err);
  const [status, code, title, detail] = answer;
  res.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem(status, code, title, detail)));
};
