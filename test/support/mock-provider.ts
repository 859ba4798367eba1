import type {
  MockProviderReceivedMessage,
  MockProviderRequestLogEntry,
  MockProviderScriptStep,
} from '../../src/providers/mock/mock-provider.server';

/** What the mock provider at `mock.url` accepted: one entry per idempotency key. */
export async function providerReceived(mock: { url: string }): Promise<MockProviderReceivedMessage[]> {
  return (await (await fetch(`${mock.url}/received`)).json()) as MockProviderReceivedMessage[];
}

/** Empties the mock provider's records at `mock.url`: accepted messages, request log and queued script steps. */
export async function clearProvider(mock: { url: string }): Promise<void> {
  await fetch(`${mock.url}/received`, { method: 'DELETE' });
}

/** Queues fault steps (POST /_script) on the mock provider of `target`. */
export async function script(target: { mock: { url: string } }, steps: MockProviderScriptStep[]): Promise<void> {
  const res = await fetch(`${target.mock.url}/_script`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps }),
  });
  expect(res.status).toBe(204);
}

/** Every send request the mock provider of `target` saw, in arrival order. */
export async function providerRequests(target: { mock: { url: string } }): Promise<MockProviderRequestLogEntry[]> {
  return (await (await fetch(`${target.mock.url}/requests`)).json()) as MockProviderRequestLogEntry[];
}
