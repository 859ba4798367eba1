import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Conversation } from '../conversations/conversation.entity';
import { Message } from '../messages/message.entity';
import { entityFromRow } from './entity-from-row';

@Entity('with_transformer')
class WithTransformer {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text', transformer: { to: (v: string) => v, from: (v: string) => v.toUpperCase() } })
  name: string;
}

/** Entity metadata without a database: TypeORM builds it from the decorators. */
async function metadataOf(...entities: (new () => unknown)[]): Promise<DataSource> {
  const dataSource = new DataSource({ type: 'postgres', entities });
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return dataSource;
}

describe('entityFromRow', () => {
  it('puts each column of a row under its property, ignores other columns and leaves out columns the row lacks', async () => {
    const ds = await metadataOf(Message, Conversation);
    const sentAt = new Date('2026-11-29T18:00:00.123Z');
    const message = entityFromRow<Message>(ds.getMetadata(Message), {
      id: '7',
      conversation_id: '3',
      from_address: '+12015550100',
      provider_message_id: null,
      sent_at: sentAt,
      attachments: ['https://x.test/a.png'],
      keyset_time: '2026-11-29T18:00:00.123456Z',
    });
    expect(message).toBeInstanceOf(Message);
    expect({ ...message }).toEqual({ id: '7', conversationId: '3', from: '+12015550100', providerMessageId: null, sentAt, attachments: ['https://x.test/a.png'] });
  });

  it('refuses an entity with a column TypeORM would convert itself', async () => {
    const ds = await metadataOf(WithTransformer);
    expect(() => entityFromRow(ds.getMetadata(WithTransformer), { id: 1, name: 'a' })).toThrow(/WithTransformer.name needs TypeORM's hydration/);
  });
});
