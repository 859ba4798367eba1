import {
  MockProviderServer,
  mockProviderOptionsFromEnv,
  type MockProviderOptions,
  type MockProviderReceivedMessage,
  type MockProviderRequestLogEntry,
} from './mock-provider.server';

const SMS = { from: '+11234567890', to: '+10987654321', type: 'sms', body: 'hi', attachments: [] };
const EMAIL = { from: 'a@example.com', to: 'b@example.com', subject: 's', body: '<p>hi</p>', attachments: [] };

describe('MockProviderServer', () => {
  let server: MockProviderServer;

  async function startWith(options: MockProviderOptions = {}): Promise<void> {
    server = new MockProviderServer(options);
    await server.start(0);
  }

  afterEach(async () => {
    await server?.stop();
  });

  function send(path: string, key: string | undefined, body: unknown = SMS, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== undefined) headers['idempotency-key'] = key;
    return fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal });
  }

  async function script(steps: unknown[]): Promise<void> {
    const res = await fetch(`${server.url}/_script`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ steps }),
    });
    expect(res.status).toBe(204);
  }

  async function received(): Promise<MockProviderReceivedMessage[]> {
    return (await (await fetch(`${server.url}/received`)).json()) as MockProviderReceivedMessage[];
  }

  async function requests(): Promise<MockProviderRequestLogEntry[]> {
    return (await (await fetch(`${server.url}/requests`)).json()) as MockProviderRequestLogEntry[];
  }

  it('reports health and its url', async () => {
    await startWith();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('accepts with 202 and dedupes on the idempotency key', async () => {
    await startWith();
    const first = await send('/sms', 'key-1');
    expect(first.status).toBe(202);
    const a = (await first.json()) as { id: string; status: string };
    expect(a.id).toMatch(/^mock-[0-9a-f-]{36}$/);
    expect(a.status).toBe('accepted');

    const second = await send('/sms', 'key-1');
    expect(second.status).toBe(202);
    expect(await second.json()).toEqual({ id: a.id, status: 'accepted' });

    const email = await send('/email', 'key-2', EMAIL);
    expect(email.status).toBe(202);
    const b = (await email.json()) as { id: string };
    expect(b.id).not.toBe(a.id);

    const list = await received();
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({
      idempotency_key: 'key-1',
      provider_message_id: a.id,
      path: '/sms',
      type: 'sms',
      from: SMS.from,
      to: SMS.to,
      body: 'hi',
      attachments: [],
      accepted_count: 2,
    });
    expect(new Date(list[0].first_accepted_at).toISOString()).toBe(list[0].first_accepted_at);
    expect(list[1]).toMatchObject({
      idempotency_key: 'key-2',
      provider_message_id: b.id,
      path: '/email',
      type: 'email',
      subject: 's',
      body: '<p>hi</p>',
      accepted_count: 1,
    });
    expect((await requests()).map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
  });

  it('records mms type from the body', async () => {
    await startWith();
    const res = await send('/sms', 'mms-1', { ...SMS, type: 'mms', attachments: ['https://x.test/a.png'] });
    expect(res.status).toBe(202);
    expect((await received())[0]).toMatchObject({ type: 'mms', attachments: ['https://x.test/a.png'] });
  });

  it('answers a scripted 429 with Retry-After, then accepts', async () => {
    await startWith();
    await script([{ action: 'status', status: 429, retry_after: '2' }]);

    const limited = await send('/sms', 'k');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({ error: { code: 'scripted', message: 'scripted 429' } });
    expect(await received()).toEqual([]);

    const ok = await send('/sms', 'k');
    expect(ok.status).toBe(202);
    expect((await received())[0].accepted_count).toBe(1);
    expect((await requests()).map((r) => r.outcome)).toEqual(['status:429', 'accepted']);
  });

  it('sends a scripted HTTP-date Retry-After verbatim and a custom body', async () => {
    await startWith();
    const date = 'Wed, 21 Oct 2065 07:28:00 GMT';
    await script([{ action: 'status', status: 503, retry_after: date, body: { error: { code: 'x' } } }]);
    const res = await send('/email', 'k', EMAIL);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe(date);
    expect(await res.json()).toEqual({ error: { code: 'x' } });
  });

  it('reset_after_read records the message, then drops the connection', async () => {
    await startWith();
    await script([{ action: 'reset_after_read' }]);
    await expect(send('/sms', 'r-1')).rejects.toThrow();

    const list = await received();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ idempotency_key: 'r-1', accepted_count: 1 });

    // The retry with the same key gets the same id.
    const retry = await send('/sms', 'r-1');
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as { id: string }).id).toBe(list[0].provider_message_id);
    expect((await received())[0].accepted_count).toBe(2);
    expect((await requests()).map((r) => r.outcome)).toEqual(['reset', 'accepted']);
  });

  it('hang never answers, and stop() does not block on it', async () => {
    await startWith();
    await script([{ action: 'hang' }]);
    const pending = send('/sms', 'h-1');
    pending.catch(() => undefined); // asserted below

    for (let i = 0; i < 100 && !(await requests()).some((r) => r.outcome === 'hang'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await requests()).map((r) => r.outcome)).toEqual(['hang']);
    expect(await received()).toEqual([]);

    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it('a client timeout on a hanging request aborts it', async () => {
    await startWith();
    await script([{ action: 'hang' }]);
    await expect(send('/sms', 'h-2', SMS, AbortSignal.timeout(100))).rejects.toThrow();
    expect((await send('/sms', 'h-2')).status).toBe(202);
  });

  it('counts open send requests and their peak; a hanging one stops counting once the client gives up', async () => {
    await startWith({ latencyMs: 300 });
    expect([server.pendingSends, server.peakPendingSends, server.openConnections]).toEqual([0, 0, 0]);
    const slow = [send('/sms', 'p-1'), send('/sms', 'p-2'), send('/email', 'p-3', EMAIL)];
    for (let i = 0; i < 100 && server.pendingSends < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.pendingSends).toBe(3);
    expect(server.openConnections).toBeGreaterThanOrEqual(3);
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([202, 202, 202]);
    expect(server.pendingSends).toBe(0);
    expect(server.peakPendingSends).toBe(3);

    await script([{ action: 'hang' }]);
    await expect(send('/sms', 'p-4', SMS, AbortSignal.timeout(400))).rejects.toThrow();
    for (let i = 0; i < 100 && server.pendingSends > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.pendingSends).toBe(0);
    expect((await requests()).map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'hang']);

    // DELETE /received starts the peak again from what is open now.
    expect((await fetch(`${server.url}/received`, { method: 'DELETE' })).status).toBe(204);
    expect(server.peakPendingSends).toBe(0);
  });

  it('errorRate=1 answers 503', async () => {
    await startWith({ errorRate: 1 });
    const res = await send('/sms', 'e-1');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(await received()).toEqual([]);
    expect((await requests())[0].outcome).toBe('status:503');
  });

  it('rate429=1 answers 429 with the configured Retry-After', async () => {
    await startWith({ rate429: 1, retryAfterSeconds: 3 });
    const res = await send('/email', 'l-1', EMAIL);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(await received()).toEqual([]);
  });

  it('uses the injected random source for faults', async () => {
    const draws = [0.1, 0.9, 0.9, 0.9, 0.1, 0.9, 0.9];
    await startWith({ errorRate: 0.5, rate429: 0.5, random: () => draws.shift() ?? 0.99 });
    expect((await send('/sms', 'r')).status).toBe(503); // 0.1 < 0.5
    expect((await send('/sms', 'r')).status).toBe(202); // 0.9, 0.9
    expect((await send('/sms', 'r')).status).toBe(429); // 0.9, then 0.1 < 0.5
    expect((await send('/sms', 'r')).status).toBe(202); // 0.9, 0.9
    expect(draws).toEqual([]);
  });

  it('scripted steps take precedence over random faults', async () => {
    await startWith({ errorRate: 1 });
    await script([{ action: 'accept' }]);
    expect((await send('/sms', 'a')).status).toBe(202);
    expect((await send('/sms', 'a')).status).toBe(503);
  });

  it('waits latencyMs before answering', async () => {
    await startWith({ latencyMs: 150 });
    const started = Date.now();
    expect((await send('/sms', 'slow')).status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects a missing idempotency key and invalid bodies with 400', async () => {
    await startWith();
    const noKey = await send('/sms', undefined);
    expect(noKey.status).toBe(400);
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe('missing_idempotency_key');

    for (const body of [{ ...SMS, to: '' }, { ...SMS, from: undefined }, { ...SMS, to: 42 }]) {
      const res = await send('/sms', 'bad', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    const malformed = await fetch(`${server.url}/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'm' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('invalid_request');

    expect(await received()).toEqual([]);
    const log = await requests();
    expect(log.map((r) => r.outcome)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
    expect(log[0].idempotency_key).toBeNull();
  });

  it('invalid requests do not consume script steps', async () => {
    await startWith();
    await script([{ action: 'status', status: 500 }]);
    expect((await send('/sms', undefined)).status).toBe(400);
    expect((await send('/sms', 'k')).status).toBe(500);
  });

  it('DELETE /received clears records, the request log and pending steps', async () => {
    await startWith();
    expect((await send('/sms', 'k')).status).toBe(202);
    await script([{ action: 'status', status: 500 }]);

    const del = await fetch(`${server.url}/received`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await received()).toEqual([]);
    expect(await requests()).toEqual([]);
    // the queued 500 is gone; a new request with the old key gets a new record
    const res = await send('/sms', 'k');
    expect(res.status).toBe(202);
    expect((await received())[0].accepted_count).toBe(1);
  });

  it('path-restricted steps apply only to their path and are skipped, not consumed, elsewhere', async () => {
    await startWith();
    await script([
      { action: 'status', status: 500, path: '/email' },
      { action: 'status', status: 429, retry_after: '1', path: '/sms' },
    ]);
    expect((await send('/sms', 's')).status).toBe(429);
    expect((await send('/sms', 's')).status).toBe(202);
    expect((await send('/email', 'e', EMAIL)).status).toBe(500);
    expect((await send('/email', 'e', EMAIL)).status).toBe(202);

    const log = await requests();
    expect(log.map((r) => `${r.path} ${r.outcome}`)).toEqual([
      '/sms status:429',
      '/sms accepted',
      '/email status:500',
      '/email accepted',
    ]);
    expect(log.every((r) => typeof r.at_ms === 'number')).toBe(true);
  });

  it('rejects invalid script steps with 400', async () => {
    await startWith();
    for (const steps of [[{ action: 'explode' }], [{ action: 'status', status: 99 }], [{ action: 'hang', path: '/fax' }]]) {
      const res = await fetch(`${server.url}/_script`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ steps }),
      });
      expect(res.status).toBe(400);
    }
  });

  it('stop() is idempotent and start() reports a busy port', async () => {
    await startWith();
    const port = await new Promise<number>((resolve) => resolve(Number(new URL(server.url).port)));
    const other = new MockProviderServer();
    await expect(other.start(port)).rejects.toThrow(/EADDRINUSE/);
    await other.stop();
    await server.stop();
    await server.stop();
    expect(() => server.url).toThrow();
  });
});

describe('mockProviderOptionsFromEnv', () => {
  it('uses defaults when unset', () => {
    expect(mockProviderOptionsFromEnv({})).toEqual({
      latencyMs: 0,
      errorRate: 0,
      rate429: 0,
      retryAfterSeconds: 1,
    });
  });

  it('reads the variables', () => {
    expect(
      mockProviderOptionsFromEnv({
        MOCK_PROVIDER_LATENCY_MS: '250',
        MOCK_PROVIDER_ERROR_RATE: '0.1',
        MOCK_PROVIDER_429_RATE: '1',
        MOCK_PROVIDER_RETRY_AFTER_S: '5',
      }),
    ).toEqual({ latencyMs: 250, errorRate: 0.1, rate429: 1, retryAfterSeconds: 5 });
  });

  it.each([
    ['MOCK_PROVIDER_LATENCY_MS', 'abc'],
    ['MOCK_PROVIDER_LATENCY_MS', '-5'],
    ['MOCK_PROVIDER_ERROR_RATE', '1.5'],
    ['MOCK_PROVIDER_ERROR_RATE', 'NaN'],
    ['MOCK_PROVIDER_429_RATE', '2'],
    ['MOCK_PROVIDER_RETRY_AFTER_S', '1.5'],
    ['MOCK_PROVIDER_RETRY_AFTER_S', 'soon'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => mockProviderOptionsFromEnv({ [name]: value })).toThrow(name);
  });
});
