import { UserSchema } from './entities/user.ts';
import { RecoveryCodeSchema } from './entities/recovery-code.ts';
import { SessionSchema } from './entities/session.ts';
import { SigningKeySchema } from './entities/signing-key.ts';
import { LoginThrottleSchema } from './entities/login-attempt.ts';
import { AccountSchema } from './entities/account.ts';
import { MembershipSchema } from './entities/membership.ts';
import { ApiKeySchema } from './entities/api-key.ts';
import { AuditChainSchema, AuditEntrySchema } from './entities/audit-entry.ts';
import { InboxItemSchema, NotificationPreferenceSchema, NotificationRuleSchema, NotificationSchema, SourceOutcomeSchema } from './entities/notification.ts';
import { NotificationEndpointSchema } from './entities/notification-endpoint.ts';
import { DeliveryAttemptSchema, DeliverySchema } from './entities/notification-delivery.ts';
import { UserTokenSchema } from './entities/user-token.ts';
import { OutboxEvent, ProcessedEvent } from '@listbackup/lib/events/outbox';
import { AccountPlanRecord } from '@listbackup/lib/events/account-plans';
import { migrations } from './migrations/index.ts';

export const database = {
  schema: 'accounts',
  entities: [
    UserSchema,
    RecoveryCodeSchema,
    SessionSchema,
    SigningKeySchema,
    LoginThrottleSchema,
    AccountSchema,
    MembershipSchema,
    ApiKeySchema,
    AuditEntrySchema,
    AuditChainSchema,
    NotificationSchema,
    InboxItemSchema,
    NotificationRuleSchema,
    NotificationPreferenceSchema,
    SourceOutcomeSchema,
    NotificationEndpointSchema,
    DeliverySchema,
    DeliveryAttemptSchema,
    UserTokenSchema,
    AccountPlanRecord,
    OutboxEvent,
    ProcessedEvent,
  ],
  migrations,
};
