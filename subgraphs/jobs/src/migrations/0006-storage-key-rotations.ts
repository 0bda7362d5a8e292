import { Migration } from '@mikro-orm/migrations';

/** The passes of `npm run storage:rotate`: checkpoint and per-KEK report (see entities/storage-key-rotation.ts). */
export class Migration0006StorageKeyRotations extends Migration {
  override up(): void {
    this.addSql("create table \"storage_key_rotations\" (\"id\" bigserial primary key, \"target_kek_id\" text not null, \"after_account_id\" uuid null, \"accounts_done\" int not null default 0, \"rewrapped\" int not null default 0, \"keys\" jsonb not null default '{}', \"failures\" jsonb not null default '[]', \"started_at\" timestamptz not null, \"updated_at\" timestamptz not null, \"finished_at\" timestamptz null);");
  }
}
