import { Migration } from '@mikro-orm/migrations';

/** Jobs a platform's webhook started (trigger kind WEBHOOK). */
export class Migration0012WebhookTrigger extends Migration {
  override up(): void {
    this.addSql("alter table \"jobs\" drop constraint \"jobs_trigger_kind_check\";");
    this.addSql("alter table \"jobs\" add constraint \"jobs_trigger_kind_check\" check (\"trigger_kind\" in ('USER', 'API_KEY', 'SCHEDULE', 'OPERATOR', 'SYSTEM', 'WEBHOOK'));");
  }
}
