/**
 * Empties messages, conversations, opt-outs and held early receipts (ids restart at 1) and the
 * delivery queue (the message-delivery rows of pgboss.job, and their dead letters), through `query`:
 * a TypeORM DataSource's or a pg Client's, so that tests without a TestApp empty the same tables the same way.
 */
export async function emptyTables(query: (sql: string) => Promise<unknown>): Promise<void> {
  await query('TRUNCATE opt_outs, messages, conversations, early_receipts RESTART IDENTITY CASCADE');
  await query(`DELETE FROM pgboss.job WHERE name IN ('message-delivery', 'message-delivery-dead-letter')`);
  await query('DELETE FROM client_rate_limits');
}
