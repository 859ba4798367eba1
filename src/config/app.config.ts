import { registerAs } from '@nestjs/config';
import bytes from 'bytes';
import { plainToInstance, Transform, Type } from 'class-transformer';
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
import { parseTrustProxy, type TrustProxySetting } from '../common/http/public-url';
import { gateWaitPerRequestMs } from '../providers/provider-gate-waits';

/** Highest accepted provider rate (PROVIDER_RATE_LIMIT_PER_S and its per-provider variants), requests/s. */
const MAX_RATE_PER_S = 10_000;
/** Per-provider rate variables: PROVIDER_RATE_LIMIT_PER_S_<NAME>, NAME from providerEnvSuffix(). */
const RATE_LIMIT_PREFIX = 'PROVIDER_RATE_LIMIT_PER_S_';

/**
 * Default client requests per API key per window (RATE_LIMIT_REQUESTS; the window is
 * RATE_LIMIT_WINDOW_S, 60 s): 6,000 a minute, 100 requests/s on average, Stripe's
 * default limit for live-mode API keys.
 */
export const DEFAULT_RATE_LIMIT_REQUESTS = 6000;

/**
 * What an API key may hold: the b64token syntax of a Bearer credential (RFC 6750,
 * section 2.1), so that every configured key can be sent in an Authorization header.
 */
const API_KEY_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** BODY_LIMIT: a whole or decimal number with an optional unit (b, kb, mb, gb; 1kb = 1024 bytes), as the `bytes` package reads it. */
const BODY_LIMIT_SYNTAX = /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i;

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

  /** Upper bound of one backoff delay between inline retries, ms. */
  @Type(() => Number) @IsInt() @Min(1)
  PROVIDER_BACKOFF_MAX_MS = 60_000;

  /** Base of the exponential backoff between delivery rounds (after a round ended unavailable), seconds. */
  @Type(() => Number) @IsNumber() @Min(0)
  DELIVERY_BACKOFF_BASE_S = 30;

  /** Upper bound of one backoff delay between delivery rounds, seconds. */
  @Type(() => Number) @IsNumber() @Min(0)
  DELIVERY_BACKOFF_MAX_S = 900;

  /** Delivery jobs one worker process runs at once. */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  DELIVERY_CONCURRENCY = 200;

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

  /**
   * Comma-separated client API keys (Authorization: Bearer KEY). Required with
   * NODE_ENV=production; unset elsewhere, client endpoints are open.
   */
  @IsOptional() @IsString()
  API_KEYS?: string;

  /** Serve Swagger UI at /docs and the OpenAPI document at /docs-json. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsIn(['true', 'false', '1', '0'], { message: 'DOCS_ENABLED must be true or false' })
  DOCS_ENABLED = 'true';

  /** Client requests per API key (per client IP while API_KEYS is unset) in one window; 0 turns rate limiting off. */
  @Type(() => Number) @IsInt() @Min(0) @Max(1_000_000)
  RATE_LIMIT_REQUESTS = DEFAULT_RATE_LIMIT_REQUESTS;

  /** Length of the rate-limit window, seconds. */
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400)
  RATE_LIMIT_WINDOW_S = 60;

  /**
   * Secret of the mock providers' webhook signatures (HMAC-SHA256, X-Webhook-Signature).
   * Unset: their webhooks are accepted unsigned; required when NODE_ENV=production.
   */
  @IsOptional() @IsString()
  WEBHOOK_SECRET?: string;

  /**
   * How much the JavaScript heap may grow past what the last full garbage collection
   * kept before the next one, percent (V8 --heap-growing-percent; 0: V8's heuristics).
   */
  @Type(() => Number) @IsInt() @Min(0) @Max(1000)
  HEAP_GROWING_PERCENT = 60;

  /** Connections of this process's TypeORM pool (pg-boss keeps 5 more). */
  @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  DATABASE_POOL_SIZE = 20;

  /** Longest wait for the answer to one database query, ms (0: none); its connection is then closed. */
  @Type(() => Number) @IsInt() @Min(0)
  DATABASE_QUERY_TIMEOUT_MS = 5_000;

  /**
   * Express's `trust proxy`: which peers' X-Forwarded-* headers to believe (false, true,
   * a hop count, or addresses/subnets); read by parseTrustProxy().
   */
  @IsOptional() @IsString()
  TRUST_PROXY?: string;

  /** Region used to read phone numbers written without a country code (ISO 3166-1 alpha-2). */
  @IsString() @Matches(/^[A-Z]{2}$/)
  DEFAULT_REGION = 'US';

  @IsString()
  SMS_PROVIDER = 'mock-sms';

  @IsString()
  EMAIL_PROVIDER = 'mock-email';

  /** Largest accepted JSON request body (bytes, or a size such as `2mb`; 1kb = 1024 bytes). */
  @IsString() @Matches(BODY_LIMIT_SYNTAX, { message: 'BODY_LIMIT must be a size such as 2mb, 512kb or 1048576 (bytes)' })
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
  const apiKeys = (vars.API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  // A worker serves no client endpoints: it needs no keys, in production either.
  const keyErrors = apiKeyErrors(apiKeys, vars.NODE_ENV === 'production' && vars.ROLE !== Role.Worker);
  const bodyLimit = bodyLimitBytes(vars.BODY_LIMIT);
  const trustProxy = trustProxyFrom(vars.TRUST_PROXY);
  const otherErrors = [
    ...rateLimits.errors,
    ...keyErrors,
    ...(bodyLimit === null || bodyLimit < 1 ? ['BODY_LIMIT: must be at least 1 byte'] : []),
    ...(trustProxy.error ? [trustProxy.error] : []),
  ];
  if (errors.length > 0 || otherErrors.length > 0) {
    const details = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration: ${[...details, ...otherErrors].join('; ')}`);
  }
  if (vars.NODE_ENV === 'production' && vars.ROLE !== Role.Worker && !vars.WEBHOOK_SECRET) {
    throw new Error(
      'Invalid configuration: WEBHOOK_SECRET must be set when NODE_ENV=production (without it the webhooks accept unsigned requests)',
    );
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
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    heapGrowingPercent: vars.HEAP_GROWING_PERCENT,
    databaseQueryTimeoutMs: vars.DATABASE_QUERY_TIMEOUT_MS,
    role: vars.ROLE,
    nodeEnv: vars.NODE_ENV,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    dataDir: vars.DATA_DIR,
    embeddedPgPort: vars.EMBEDDED_PG_PORT,
    /** Largest JSON request body, bytes (BODY_LIMIT). */
    bodyLimit: bodyLimit as number,
    defaultRegion: vars.DEFAULT_REGION,
    apiKeys,
    docsEnabled: vars.DOCS_ENABLED === 'true' || vars.DOCS_ENABLED === '1',
    rateLimit: {
      /** Requests per caller per window; 0: off. */
      requests: vars.RATE_LIMIT_REQUESTS,
      windowMs: vars.RATE_LIMIT_WINDOW_S * 1000,
    },
    webhookSecret: vars.WEBHOOK_SECRET,
    trustProxy: trustProxy.setting,
    mockProvider: { port: vars.MOCK_PROVIDER_PORT, url: vars.MOCK_PROVIDER_URL },
    providers: { sms: vars.SMS_PROVIDER, email: vars.EMAIL_PROVIDER },
    delivery: {
      maxAttempts: vars.DELIVERY_MAX_ATTEMPTS,
      inlineRetries: vars.PROVIDER_INLINE_RETRIES,
      timeoutMs: vars.PROVIDER_TIMEOUT_MS,
      retryAfterMaxMs: vars.PROVIDER_RETRY_AFTER_MAX_S * 1000,
      backoffBaseMs: vars.PROVIDER_BACKOFF_BASE_MS,
      backoffMaxMs: vars.PROVIDER_BACKOFF_MAX_MS,
      roundBackoffBaseMs: vars.DELIVERY_BACKOFF_BASE_S * 1000,
      roundBackoffMaxMs: vars.DELIVERY_BACKOFF_MAX_S * 1000,
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
 * @param value BODY_LIMIT, already matched against BODY_LIMIT_SYNTAX
 * @returns the size in whole bytes (1kb = 1024, as express.json reads it), or null when it does not parse
 */
function bodyLimitBytes(value: string): number | null {
  if (!BODY_LIMIT_SYNTAX.test(value)) return null;
  const parsed = bytes.parse(value.trim().replace(/^([\d.]+)\s*b$/i, '$1'));
  return parsed === null ? null : Math.floor(parsed);
}

/**
 * Checks the client API keys: each must be usable as a Bearer token (RFC 6750 b64token)
 * and, with NODE_ENV=production, at least one must be configured (a production
 * service never runs open). The messages never contain a key.
 * @returns one message per problem
 */
function apiKeyErrors(keys: string[], required: boolean): string[] {
  const errors: string[] = [];
  const malformed = keys.filter((key) => !API_KEY_SYNTAX.test(key)).length;
  if (malformed > 0) {
    errors.push(`API_KEYS: ${malformed} key(s) hold characters a Bearer token cannot carry (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)`);
  }
  if (keys.length === 0 && required) {
    errors.push('API_KEYS: required when NODE_ENV=production (comma-separated client keys); the client API does not run open in production');
  }
  return errors;
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

/** Reads TRUST_PROXY with parseTrustProxy(); an invalid value becomes one configuration error. */
function trustProxyFrom(raw: string | undefined): { setting: TrustProxySetting; error?: string } {
  try {
    return { setting: parseTrustProxy(raw) };
  } catch (error) {
    return { setting: false, error: `TRUST_PROXY: ${(error as Error).message}` };
  }
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
