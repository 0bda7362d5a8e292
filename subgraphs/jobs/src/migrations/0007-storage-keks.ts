import { Migration } from '@mikro-orm/migrations';

/** The KEKs processes have held, so a retired one is refused until storage:rotate reports it unused (entities/storage-key-rotation.ts). */
export class Migration0007StorageKeks extends Migration {
  override up(): void {
    this.addSql("create table \"storage_keks\" (\"kek_id\" text not null, \"after_pass_id\" bigint not null, \"first_seen_at\" timestamptz not null, primary key (\"kek_id\"));");
  }
}
