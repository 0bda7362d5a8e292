import { Migration } from '@mikro-orm/migrations';

/** Accounts' standing against their storage quota, and the grace of plans without overage. */
export class Migration0008StorageQuota extends Migration {
  override up(): void {
    this.addSql("create table \"storage_quotas\" (\"account_id\" uuid not null, \"version\" int not null, \"plan_code\" text null, \"used_bytes\" bigint not null, \"quota_bytes\" bigint not null, \"over_since\" timestamptz null, \"blocked_from\" timestamptz null, primary key (\"account_id\"));");
    this.addSql("alter table \"plans\" add \"storage_grace_days\" int null, add \"storage_grace_bytes\" bigint null;");
  }
}
