import { DateTime } from '@listbackup/lib/scalars';
import type { Resolvers } from '../generated/resolvers.ts';
import { identityResolvers } from './identity.ts';
import { tenancyResolvers } from './tenancy.ts';

export const resolvers: Resolvers = {
  DateTime,
  Query: { ...identityResolvers.Query, ...tenancyResolvers.Query },
  Mutation: { ...identityResolvers.Mutation, ...tenancyResolvers.Mutation },
  User: { ...identityResolvers.User, ...tenancyResolvers.User },
  Account: tenancyResolvers.Account,
  Membership: tenancyResolvers.Membership,
  ApiKey: tenancyResolvers.ApiKey,
};
