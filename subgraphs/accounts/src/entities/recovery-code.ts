import { defineEntity, p } from '@mikro-orm/core';
import { uuidv7 } from '@listbackup/lib/events/envelope';

/** A one-time TOTP recovery code, stored hashed. */
export const RecoveryCodeSchema = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  properties: {
    id: p.uuid().primary().onCreate(() => uuidv7()),
    userId: p.uuid().index(),
    codeHash: p.string(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class RecoveryCode extends RecoveryCodeSchema.class {}
RecoveryCodeSchema.setClass(RecoveryCode);
