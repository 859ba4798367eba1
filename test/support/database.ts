/**
 * Empties messages and conversations (ids restart at 1) and the delivery queue (the
 * message-delivery rows of pgboss.job), through `query`: a TypeORM DataSource's or a
 * pg Client's, so that tests without a TestApp empty the same tables the same way.
 */
export async function emptyTables(query: (sql: string) => Promise<unknown>): Promise<void> {
  await query('TRUNCATE messages, conversations RESTART IDENTITY CASCADE');
  await query(`DELETE FROM pgboss.job WHERE name = 'message-delivery'`);
}
