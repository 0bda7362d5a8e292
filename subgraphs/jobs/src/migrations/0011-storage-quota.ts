import { Migration } from '@mikro-orm/migrations';

/** The accounts' storage standing as billing announces it, and failure type QUOTA_EXCEEDED (counted per day too). */
export class Migration0011StorageQuota extends Migration {
  override up(): void {
    this.addSql("create table \"account_quotas\" (\"account_id\" uuid not null, \"version\" int not null, \"plan_name\" text not null, \"used_bytes\" bigint not null, \"quota_bytes\" bigint not null, \"over_since\" timestamptz null, \"blocked_from\" timestamptz null, primary key (\"account_id\"));");
    this.addSql("alter table \"jobs\" drop constraint \"jobs_failure_type_check\";");
    this.addSql("alter table \"jobs\" add constraint \"jobs_failure_type_check\" check (\"failure_type\" in ('CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL', 'UNAVAILABLE', 'DAMAGED', 'QUOTA_EXCEEDED'));");
    this.addSql("alter table \"job_day_stats\" add \"failed_quota_exceeded\" int not null default 0;");
  }
}
