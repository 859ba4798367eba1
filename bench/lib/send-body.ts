/**
 * The bench's send body, request number `n`: one sender, 1,000 recipients in turn
 * (1,000 conversations, as a business texting its customers).
 */
export function sendBody(n: number): Record<string, unknown> {
  return { from: '+13015550100', to: `+1301555${String(1000 + (n % 1000)).padStart(4, '0')}`, type: 'sms', body: `Bench message ${n}: your order has shipped.`, attachments: [] };
}
