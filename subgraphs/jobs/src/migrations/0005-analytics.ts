import { Migration } from '@mikro-orm/migrations';

/** The job analytics read models: per source, day and kind (job_day_stats), and per source (source_stats). */
export class Migration0005Analytics extends Migration {
  override up(): void {
    this.addSql("create table \"job_day_stats\" (\"account_id\" uuid not null, \"source_id\" uuid not null, \"day\" date not null, \"kind\" text not null, \"runs\" int not null default 0, \"succeeded\" int not null default 0, \"failed\" int not null default 0, \"cancelled\" int not null default 0, \"partial\" int not null default 0, \"failed_config\" int not null default 0, \"failed_transient\" int not null default 0, \"failed_rate_limited\" int not null default 0, \"failed_internal\" int not null default 0, \"items\" bigint not null default '0', \"bytes\" bigint not null default '0', \"items_added\" bigint not null default '0', \"items_changed\" bigint not null default '0', \"items_deleted\" bigint not null default '0', \"timed\" int not null default 0, \"duration_ms_total\" bigint not null default '0', \"duration_bins\" jsonb not null default '{}', primary key (\"account_id\", \"source_id\", \"day\", \"kind\"));");
    this.addSql("create index \"job_day_stats_account_kind_day_idx\" on \"job_day_stats\" (\"account_id\", \"kind\", \"day\");");
    this.addSql("create index \"job_day_stats_source_day_idx\" on \"job_day_stats\" (\"source_id\", \"day\");");
    this.addSql("create table \"source_stats\" (\"source_id\" uuid not null, \"account_id\" uuid not null, \"platform_id\" uuid null, \"platform_slug\" text null, \"schedule_kind\" text null, \"cron\" text null, \"time_zone\" text null, \"paused\" boolean not null default false, \"deleted_at\" timestamptz null, \"facts_as_of\" timestamptz null, \"last_success_at\" timestamptz null, \"last_success_job_id\" uuid null, \"last_finished_at\" timestamptz null, \"last_status\" text null, \"change_observations\" int not null default 0, \"deleted_share_mean\" double precision not null default 0, \"deleted_share_variance\" double precision not null default 0, \"changed_share_mean\" double precision not null default 0, \"changed_share_variance\" double precision not null default 0, primary key (\"source_id\"));");
    this.addSql("create index \"source_stats_account_id_index\" on \"source_stats\" (\"account_id\");");
    this.addSql("alter table \"job_day_stats\" add constraint \"job_day_stats_kind_check\" check (\"kind\" in ('BACKUP', 'EXPORT', 'RESTORE', 'VERIFY', 'PRUNE', 'TIER'));");
  }
}
