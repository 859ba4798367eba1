import express, { ErrorRequestHandler, RequestHandler } from 'express';
import { problem, PROBLEM_CONTENT_TYPE } from '../errors/problem-details';

const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * express.json() limited to `limit` (bytes or a size string such as `2mb`), for JSON
 * media types only. Its errors are answered by {@link bodyParsingErrorHandler}.
 */
export function jsonBodyParser(limit: string | number): RequestHandler {
  return express.json({ limit, type: JSON_TYPES, strict: false });
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
 * Error middleware placed right after the body parser: malformed JSON 400, body over
 * the limit 413, unsupported charset or encoding 415, all as problem+json.
 */
export const bodyParsingErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  const type = (err as { type?: string }).type;
  const answers: Record<string, [number, string, string, string]> = {
    'entity.parse.failed': [400, 'malformed_json', 'Malformed JSON', 'The request body is not valid JSON.'],
    'entity.too.large': [413, 'payload_too_large', 'Payload too large', 'The request body exceeds the size limit.'],
    'charset.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'Use a UTF-8 JSON body.'],
    'encoding.unsupported': [415, 'unsupported_media_type', 'Unsupported media type', 'The content encoding is not supported.'],
  };
  const answer = type ? answers[type] : undefined;
  if (!answer) return next(err);
  const [status, code, title, detail] = answer;
  res.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem(status, code, title, detail)));
};
