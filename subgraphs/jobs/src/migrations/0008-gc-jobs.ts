import { Migration } from '@mikro-orm/migrations';

/** GC jobs (backup/maintenance.ts), and the index the daily GC schedule reads recent jobs by. */
export class Migration0008GcJobs extends Migration {
  override up(): void {
    this.addSql("alter table \"jobs\" drop constraint \"jobs_kind_check\";");
    this.addSql("create index \"jobs_created_idx\" on \"jobs\" (\"created_at\");");
    this.addSql("alter table \"jobs\" add constraint \"jobs_kind_check\" check (\"kind\" in ('BACKUP', 'EXPORT', 'RESTORE', 'VERIFY', 'PRUNE', 'TIER', 'GC'));");
    this.addSql("alter table \"job_day_stats\" drop constraint \"job_day_stats_kind_check\";");
    this.addSql("alter table \"job_day_stats\" add constraint \"job_day_stats_kind_check\" check (\"kind\" in ('BACKUP', 'EXPORT', 'RESTORE', 'VERIFY', 'PRUNE', 'TIER', 'GC'));");
  }
}
