import { OutboxActorMigration, OutboxMigration, OutboxTraceMigration } from '@listbackup/lib/events/outbox-migration';
import { AccountPlansMigration } from '@listbackup/lib/events/account-plans';
import { Migration0001Initial } from './0001-initial.ts';
import { Migration0002TenancyPathGin } from './0002-tenancy-path-gin.ts';
import { Migration0004IdentitySessionReuseIndex } from './0004-identity-session-reuse-index.ts';
import { Migration0006AuditLog } from './0006-audit-log.ts';
import { Migration0007Notifications } from './0007-notifications.ts';
import { Migration0008UserLifecycle } from './0008-user-lifecycle.ts';
import { Migration0009AccountLifecycle } from './0009-account-lifecycle.ts';
import { Migration0010ListPages } from './0010-list-pages.ts';
import { Migration0011UserMembershipPages } from './0011-user-membership-pages.ts';
import { Migration0014NotificationTypes } from './0014-notification-types.ts';

export const migrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-tenancy-path-gin', class: Migration0002TenancyPathGin },
  { name: '0003-outbox', class: OutboxMigration },
  { name: '0004-identity-session-reuse-index', class: Migration0004IdentitySessionReuseIndex },
  { name: '0005-outbox-actor', class: OutboxActorMigration },
  { name: '0006-audit-log', class: Migration0006AuditLog },
  { name: '0007-notifications', class: Migration0007Notifications },
  { name: '0008-user-lifecycle', class: Migration0008UserLifecycle },
  { name: '0009-account-lifecycle', class: Migration0009AccountLifecycle },
  { name: '0010-list-pages', class: Migration0010ListPages },
  { name: '0011-user-membership-pages', class: Migration0011UserMembershipPages },
  { name: '0012-outbox-trace', class: OutboxTraceMigration },
  { name: '0013-account-plans', class: AccountPlansMigration },
  { name: '0014-notification-types', class: Migration0014NotificationTypes },
];
