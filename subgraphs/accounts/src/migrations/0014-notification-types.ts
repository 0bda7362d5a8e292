import { Migration } from '@mikro-orm/migrations';

const EVENTS = `('JOB_FAILED', 'JOB_RECOVERED', 'JOB_PARTIALLY_SUCCEEDED', 'CONNECTION_FAILED', 'TOKEN_EXPIRING', 'QUOTA_WARNING', 'QUOTA_REACHED', 'ANOMALY_DETECTED', 'ENDPOINT_DISABLED', 'PAYMENT_FAILED')`;

/** Two more kinds of notification: a connection's credential about to expire, and a payment that failed. */
export class Migration0014NotificationTypes extends Migration {
  override up(): void {
    for (const table of ['notifications', 'notification_preferences', 'notification_rules']) {
      this.addSql(`alter table "${table}" drop constraint "${table}_event_check";`);
      this.addSql(`alter table "${table}" add constraint "${table}_event_check" check ("event" in ${EVENTS});`);
    }
  }
}
