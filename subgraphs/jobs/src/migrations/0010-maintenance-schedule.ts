import { Migration } from '@mikro-orm/migrations';

/**
 * Failure types UNAVAILABLE (a job deferred by an open circuit breaker for too long) and DAMAGED (a
 * verify found stored data missing or corrupt), how long a job has been deferred, and the index
 * the tiering and weekly-verify schedule reads the accounts that store backups by.
 */
export class Migration0010MaintenanceSchedule extends Migration {
  override up(): void {
    this.addSql("alter table \"jobs\" drop constraint \"jobs_failure_type_check\";");
    this.addSql("alter table \"jobs\" add \"deferred_since\" timestamptz null;");
    this.addSql("create index \"jobs_backed_up_accounts_idx\" on \"jobs\" (\"account_id\") where kind = 'BACKUP' and status = 'SUCCEEDED';");
    this.addSql("alter table \"jobs\" add constraint \"jobs_failure_type_check\" check (\"failure_type\" in ('CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL', 'UNAVAILABLE', 'DAMAGED'));");
    this.addSql("alter table \"job_day_stats\" add \"failed_unavailable\" int not null default 0, add \"failed_damaged\" int not null default 0;");
  }
}
