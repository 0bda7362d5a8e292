import { defineEntity, p } from '@mikro-orm/core';

/**
 * Failed logins counted per key (`email:<address>` or `ip:<address>`), kept in the database so
 * the limit holds across restarts and across several accounts-service processes.
 */
export const LoginThrottleSchema = defineEntity({
  name: 'LoginThrottle',
  tableName: 'login_throttles',
  properties: {
    key: p.string().primary(),
    failures: p.integer().default(0),
    lastFailureAt: p.datetime(),
    blockedUntil: p.datetime().nullable(),
  },
});

export class LoginThrottle extends LoginThrottleSchema.class {}
LoginThrottleSchema.setClass(LoginThrottle);
