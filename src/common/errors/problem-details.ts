import { FieldError } from './app-error';

/** An RFC 9457 problem details body. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Builds a problem details body.
 * @param status HTTP status
 * @param code our machine-readable code (also the last segment of `type`)
 * @param title short, status-level summary
 * @param detail what went wrong with this request
 * @param errors field errors for validation problems
 */
export function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  errors?: FieldError[],
): ProblemDetails {
  return { type: `/problems/${code.replace(/_/g, '-')}`, title, status, detail, code, ...(errors ? { errors } : {}) };
}
