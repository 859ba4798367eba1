import type { HttpService } from '@nestjs/axios';
import { AxiosError, AxiosRequestConfig } from 'axios';
import { ProviderRejectedError, ProviderUnavailableError } from '../common/errors/provider-errors';
import { parseRetryAfter, RETRYABLE_STATUSES } from '../common/http/retry';

/** A provider's answer to an accepted request. */
export interface ProviderResponse<T> {
  data: T;
  /** Requests made, the accepted one included. */
  attempts: number;
}

function attemptsOf(config: AxiosRequestConfig | undefined): number {
  return (config?.['axios-retry']?.retryCount ?? 0) + 1;
}

function reasonOf(error: AxiosError): { message: string; code?: string } {
  const data = error.response?.data as { error?: { code?: unknown; message?: unknown }; message?: unknown } | undefined;
  const message = data?.error?.message ?? data?.message;
  const code = data?.error?.code;
  return {
    message: typeof message === 'string' ? message : `HTTP ${error.response?.status ?? error.code ?? 'error'}`,
    code: typeof code === 'string' ? code : undefined,
  };
}

/**
 * POSTs JSON to a provider through the injected HttpService (retries come from its
 * axios-retry interceptor, see common/http/retry.ts) and translates failures into
 * provider errors, so that adapters never leak AxiosError.
 * @param idempotencyKey sent as the Idempotency-Key header on every attempt
 * @param maxAttempts requests this call may make (inline retries included)
 * @throws ProviderRejectedError for a 4xx other than 408/429
 * @throws ProviderUnavailableError for network errors, timeouts, 408, 429 and 5xx
 */
export async function postToProvider<T>(
  http: HttpService,
  url: string,
  payload: unknown,
  idempotencyKey: string,
  maxAttempts: number,
  headers: Record<string, string> = {},
): Promise<ProviderResponse<T>> {
  try {
    const response = await http.axiosRef.post<T>(url, payload, {
      headers: { ...headers, 'Idempotency-Key': idempotencyKey },
      'axios-retry': { retries: Math.max(0, maxAttempts - 1) },
    });
    return { data: response.data, attempts: attemptsOf(response.config) };
  } catch (error) {
    if (!(error instanceof AxiosError)) throw error;
    const attempts = attemptsOf(error.config);
    const status = error.response?.status;
    const { message, code } = reasonOf(error);
    if (status !== undefined && status >= 400 && status < 500 && !RETRYABLE_STATUSES.has(status)) {
      throw new ProviderRejectedError(message, attempts, code);
    }
    const retryAfterMs = parseRetryAfter(error.response?.headers?.['retry-after']);
    const what = status ? `provider answered ${status}` : `provider unreachable (${error.code ?? error.message})`;
    throw new ProviderUnavailableError(what, attempts, retryAfterMs, status);
  }
}
