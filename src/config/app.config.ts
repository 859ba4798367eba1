import { registerAs } from '@nestjs/config';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';
import { gateWaitPerRequestMs } from '../providers/provider-gate-waits';

/** Highest accepted provider rate (PROVIDER_RATE_LIMIT_PER_S and its per-provider variants), requests/s. */
const MAX_RATE_PER_S = 10_000;
/** Per-provider rate variables: PROVIDER_RATE_LIMIT_PER_S_<NAME>, NAME from providerEnvSuffix(). */
const RATE_LIMIT_PREFIX = 'PROVIDER_RATE_LIMIT_PER_S_';

/** Which parts of the service a process runs (design.md, Configuration). */
export enum Role {
  All = 'all',
  Api = 'api',
  Worker = 'worker',
}

/**
 * Environment variables the service reads, with their defaults. Names are fixed by
 * design.md's Configuration table; the extra ones tune retries, queues and the embedded
 * database.
 */
class EnvironmentVariables {
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT = 8000;

  @IsOptional() @IsString() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsEnum(Role)
  ROLE: Role = Role.All;

  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  MOCK_PROVIDER_PORT = 8001;

  @IsOptional() @IsString() @Matches(/^https?:\/\//, { message: 'MOCK_PROVIDER_URL must be an http(s) URL' })
  MOCK_PROVIDER_URL?: string;

  /** Timeout of one provider attempt, ms. */
  @Type(() => Number) @IsInt() @Min(1)
  PROVIDER_TIMEOUT_MS = 10_000;

  /** Provider attempts (inline retries count) before a message is failed. */
  @Type(() => Number) @IsInt() @Min(1) @Max(100)
  DELIVERY_MAX_ATTEMPTS = 8;

  /** Retries made inside one delivery job before the job is deferred in the queue. */
  @Type(() => Number) @IsInt() @Min(0) @Max(10)
  PROVIDER_INLINE_RETRIES = 2;

  /** Longest Retry-After honoured inline, seconds; longer waits defer the job instead. */
  @Type(() => Number) @IsNumber() @Min(0)
  PROVIDER_RETRY_AFTER_MAX_S = 10;

  /** Base of the exponential backoff between attempts, ms. */
  @Type(() => Number) @IsInt() @Min(1)
  PROVIDER_BACKOFF_BASE_MS = 200;

  /** Upper bound of one backoff delay (inline or in the queue), ms. */
  @Type(() => Number) @IsInt() @Min(1)
  PROVIDER_BACKOFF_MAX_MS = 60_000;

  /** Delivery jobs one worker process runs at once. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  DELIVERY_CONCURRENCY = 50;

  /**
   * Seconds after which an active delivery job is considered lost (its worker was
   * killed) and run again. Must exceed the longest a job can legitimately take; unset,
   * that bound plus 10 s.
   */
  @IsOptional() @Type(() => Number) @IsInt() @Min(5)
  DELIVERY_JOB_EXPIRE_S?: number;

  /** Longest wait before a deferred message's next delivery round (Retry-After or backoff), seconds. */
  @Type(() => Number) @IsInt() @Min(1)
  DELIVERY_DEFER_MAX_S = 3600;

  /** A message still undelivered this many seconds after it was created is failed with `expired`. */
  @Type(() => Number) @IsInt() @Min(1)
  DELIVERY_MAX_AGE_S = 86_400;

  /**
   * Requests per second to each provider, across all worker processes (0: unlimited).
   * PROVIDER_RATE_LIMIT_PER_S_<NAME> overrides it for one provider (see providerRateLimitsFrom).
   */
  @Type(() => Number) @IsNumber() @Min(0) @Max(MAX_RATE_PER_S)
  PROVIDER_RATE_LIMIT_PER_S = 0;

  /** Consecutive unavailable deliveries (network error, timeout, 408, 5xx; not 429) that open a provider's circuit, per process. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  PROVIDER_CIRCUIT_FAILURES = 5;

  /** How long an open circuit stops calls to its provider before one test call, ms. */
  @Type(() => Number) @IsInt() @Min(1)
  PROVIDER_CIRCUIT_COOLDOWN_MS = 30_000;

  @IsOptional() @IsString()
  API_KEYS?: string;

  @IsOptional() @IsString()
  WEBHOOK_SECRET?: string;

  /** Region used to read phone numbers written without a country code (ISO 3166-1 alpha-2). */
  @IsString() @Matches(/^[A-Z]{2}$/)
  DEFAULT_REGION = 'US';

  @IsString()
  SMS_PROVIDER = 'mock-sms';

  @IsString()
  EMAIL_PROVIDER = 'mock-email';

  /** Largest accepted JSON request body (bytes, or a size such as `2mb`). */
  @IsString()
  BODY_LIMIT = '2mb';

  /** Directory of the embedded PostgreSQL (used when DATABASE_URL is unset). */
  @IsString()
  DATA_DIR = '.data';

  /** Port of the embedded PostgreSQL; never 5432, which a system PostgreSQL may hold. */
  @Type(() => Number) @IsInt() @Min(1) @Max(65535)
  EMBEDDED_PG_PORT = 54329;

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  /**
   * On SIGTERM/SIGINT: how long in-flight deliveries and HTTP requests may take to
   * finish before the process closes its connections and exits, ms.
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(600_000)
  SHUTDOWN_GRACE_MS = 10_000;
}

export type AppConfig = ReturnType<typeof loadAppConfig>;

/**
 * Reads and validates the environment.
 * @param env the variables (defaults to process.env)
 * @returns the typed configuration
 * @throws Error naming every invalid variable
 */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env) {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const vars = plainToInstance(EnvironmentVariables, present, { excludeExtraneousValues: false });
  const errors = validateSync(vars, { whitelist: false });
  const rateLimits = providerRateLimitsFrom(present);
  if (errors.length > 0 || rateLimits.errors.length > 0) {
    const details = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration: ${[...details, ...rateLimits.errors].join('; ')}`);
  }
  const pacedRates = [vars.PROVIDER_RATE_LIMIT_PER_S, ...Object.values(rateLimits.rates)].filter((rate) => rate > 0);
  const jobBudgetSeconds = Math.ceil(
    deliveryJobBudgetMs(
      vars.PROVIDER_INLINE_RETRIES, vars.PROVIDER_TIMEOUT_MS, vars.PROVIDER_RETRY_AFTER_MAX_S * 1000, vars.PROVIDER_BACKOFF_BASE_MS, vars.PROVIDER_BACKOFF_MAX_MS,
      gateWaitPerRequestMs(pacedRates.length > 0 ? Math.min(...pacedRates) : 0),
    ) / 1000,
  );
  if (vars.DELIVERY_JOB_EXPIRE_S !== undefined && vars.DELIVERY_JOB_EXPIRE_S <= jobBudgetSeconds) {
    throw new Error(
      `Invalid configuration: DELIVERY_JOB_EXPIRE_S (${vars.DELIVERY_JOB_EXPIRE_S}) must exceed the longest a delivery job can take ` +
        `(${jobBudgetSeconds} s from PROVIDER_INLINE_RETRIES, PROVIDER_TIMEOUT_MS, PROVIDER_RETRY_AFTER_MAX_S, PROVIDER_BACKOFF_MAX_MS and the provider gate's waits)`,
    );
  }
  return {
    port: vars.PORT,
    databaseUrl: vars.DATABASE_URL,
    role: vars.ROLE,
    nodeEnv: vars.NODE_ENV,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    dataDir: vars.DATA_DIR,
    embeddedPgPort: vars.EMBEDDED_PG_PORT,
    bodyLimit: vars.BODY_LIMIT,
    defaultRegion: vars.DEFAULT_REGION,
    apiKeys: (vars.API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean),
    webhookSecret: vars.WEBHOOK_SECRET,
    mockProvider: { port: vars.MOCK_PROVIDER_PORT, url: vars.MOCK_PROVIDER_URL },
    providers: { sms: vars.SMS_PROVIDER, email: vars.EMAIL_PROVIDER },
    delivery: {
      maxAttempts: vars.DELIVERY_MAX_ATTEMPTS,
      inlineRetries: vars.PROVIDER_INLINE_RETRIES,
      timeoutMs: vars.PROVIDER_TIMEOUT_MS,
      retryAfterMaxMs: vars.PROVIDER_RETRY_AFTER_MAX_S * 1000,
      backoffBaseMs: vars.PROVIDER_BACKOFF_BASE_MS,
      backoffMaxMs: vars.PROVIDER_BACKOFF_MAX_MS,
      concurrency: vars.DELIVERY_CONCURRENCY,
      jobExpireSeconds: vars.DELIVERY_JOB_EXPIRE_S ?? jobBudgetSeconds + 10,
      deferMaxMs: vars.DELIVERY_DEFER_MAX_S * 1000,
      maxAgeMs: vars.DELIVERY_MAX_AGE_S * 1000,
    },
    providerGate: {
      /** Requests/s per provider (0: unlimited); ratesPerS overrides it by providerEnvSuffix(name). */
      ratePerS: vars.PROVIDER_RATE_LIMIT_PER_S,
      ratesPerS: rateLimits.rates,
      circuitFailures: vars.PROVIDER_CIRCUIT_FAILURES,
      circuitCooldownMs: vars.PROVIDER_CIRCUIT_COOLDOWN_MS,
    },
  };
}

/**
 * The part of a provider's name used in its own variables: upper-cased, with every
 * character other than A-Z and 0-9 as `_` (`mock-sms` -> `MOCK_SMS`).
 */
export function providerEnvSuffix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * The rate limit of one provider: PROVIDER_RATE_LIMIT_PER_S_<NAME> when set, else PROVIDER_RATE_LIMIT_PER_S.
 * @returns requests per second, 0 for unlimited
 */
export function providerRatePerS(gate: AppConfig['providerGate'], providerName: string): number {
  return gate.ratesPerS[providerEnvSuffix(providerName)] ?? gate.ratePerS;
}

/**
 * Reads the per-provider rate variables PROVIDER_RATE_LIMIT_PER_S_<NAME> (requests/s,
 * 0 to MAX_RATE_PER_S; 0 lifts a default limit for that provider).
 * @returns the rates by NAME, and one message per invalid value
 */
function providerRateLimitsFrom(env: Record<string, string | undefined>): { rates: Record<string, number>; errors: string[] } {
  const rates: Record<string, number> = {};
  const errors: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(RATE_LIMIT_PREFIX) || value === undefined) continue;
    const rate = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > MAX_RATE_PER_S) {
      errors.push(`${key}: must be a number from 0 to ${MAX_RATE_PER_S} (requests per second)`);
    } else {
      rates[key.slice(RATE_LIMIT_PREFIX.length)] = rate;
    }
  }
  return { rates, errors };
}

/**
 * The longest one delivery job can take: every attempt runs into its timeout and every
 * inline retry waits the longest it may (Retry-After cap or backoff ceiling).
 * @param gateWaitMs the longest the provider gate holds one request (gateWaitPerRequestMs), ms
 * @returns milliseconds
 */
export function deliveryJobBudgetMs(
  inlineRetries: number,
  timeoutMs: number,
  retryAfterMaxMs: number,
  backoffBaseMs: number,
  backoffMaxMs: number,
  gateWaitMs = 0,
): number {
  let waits = 0;
  for (let retry = 1; retry <= inlineRetries; retry++) {
    waits += Math.max(retryAfterMaxMs, Math.min(backoffMaxMs, backoffBaseMs * 2 ** (retry - 1)));
  }
  return (inlineRetries + 1) * (timeoutMs + gateWaitMs) + waits;
}

/** The `app` configuration namespace, read when the Nest container is built (not at import). */
export const appConfig = registerAs('app', () => loadAppConfig(process.env));
