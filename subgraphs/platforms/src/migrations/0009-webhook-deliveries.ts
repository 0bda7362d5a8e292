import { Migration } from '@mikro-orm/migrations';

/** Verified platform webhook deliveries by their platform id, so a replay is recognised. */
export class Migration0009WebhookDeliveries extends Migration {
  override up(): void {
    this.addSql("create table \"webhook_deliveries\" (\"platform\" text not null, \"delivery_id\" text not null, \"event_type\" text not null, \"received_at\" timestamptz not null, primary key (\"platform\", \"delivery_id\"));");
    this.addSql("create index \"webhook_deliveries_received_idx\" on \"webhook_deliveries\" (\"received_at\");");
  }
}
