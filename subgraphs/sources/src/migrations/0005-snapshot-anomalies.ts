import { Migration } from '@mikro-orm/migrations';

/** Snapshots flagged as anomalies (kept past retention until acknowledged), and how each differs from its parent. */
export class Migration0005SnapshotAnomalies extends Migration {
  override up(): void {
    this.addSql("alter table \"snapshots\" add \"changes\" jsonb null, add \"anomaly_kind\" text null, add \"anomaly_reason\" text null, add \"anomaly_share\" double precision null, add \"anomaly_typical_share\" double precision null, add \"anomaly_detected_at\" timestamptz null, add \"anomaly_acknowledged_at\" timestamptz null, add \"anomaly_acknowledged_by\" text null;");
    this.addSql("alter table \"snapshots\" add constraint \"snapshots_anomaly_kind_check\" check (\"anomaly_kind\" in ('MASS_DELETION', 'MASS_CHANGE'));");
  }
}
