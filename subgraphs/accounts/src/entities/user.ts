import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';

export const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    /** Stored lower-case and trimmed. */
    email: p.string().unique(),
    name: p.string(),
    passwordHash: p.string().lazy(),
    /** Base32 TOTP secret; set at enrolment, in force once `totpEnabledAt` is set. */
    totpSecret: p.string().nullable().lazy(),
    totpEnabledAt: p.datetime().nullable(),
    /** The last TOTP time step accepted, so one code cannot be used twice. */
    totpLastStep: p.bigint('number').nullable(),
    /** When the owner of the address proved it (a signed link); invitations and emails wait for it. */
    emailVerifiedAt: p.datetime().nullable(),
    avatarUrl: p.text().nullable(),
    /** IANA time zone, e.g. `Europe/Paris`. */
    timeZone: p.text().nullable(),
    /** BCP 47 language tag, e.g. `fr-FR`. */
    locale: p.text().nullable(),
    /** The time zone new schedules start in. */
    defaultScheduleTimeZone: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class User extends UserSchema.class {}
UserSchema.setClass(User);
