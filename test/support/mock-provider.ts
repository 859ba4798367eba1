import type { MockProviderReceivedMessage } from '../../src/providers/mock/mock-provider.server';

/** What the mock provider at `mock.url` accepted: one entry per idempotency key. */
export async function providerReceived(mock: { url: string }): Promise<MockProviderReceivedMessage[]> {
  return (await (await fetch(`${mock.url}/received`)).json()) as MockProviderReceivedMessage[];
}

/** Empties the mock provider's records at `mock.url`: accepted messages, request log and queued script steps. */
export async function clearProvider(mock: { url: string }): Promise<void> {
  await fetch(`${mock.url}/received`, { method: 'DELETE' });
}
