import { Migration } from '@mikro-orm/migrations';

/** Failure type AUTH (the platform refuses the connection's credential: authorize it again) and its daily count. */
export class Migration0013AuthFailures extends Migration {
  override up(): void {
    this.addSql("alter table \"jobs\" drop constraint \"jobs_failure_type_check\";");
    this.addSql("alter table \"jobs\" add constraint \"jobs_failure_type_check\" check (\"failure_type\" in ('AUTH', 'CONFIG', 'TRANSIENT', 'RATE_LIMITED', 'INTERNAL', 'UNAVAILABLE', 'DAMAGED', 'QUOTA_EXCEEDED'));");
    this.addSql("alter table \"job_day_stats\" add \"failed_auth\" int not null default 0;");
  }
}
