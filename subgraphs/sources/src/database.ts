import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { SourceSchema } from './entities/source.ts';
import { SnapshotSchema } from './entities/snapshot.ts';
import { migrations } from './migrations/index.ts';

export const database = { schema: 'sources', entities: [SourceSchema, SnapshotSchema, OutboxEvent, ProcessedEvent], migrations };
