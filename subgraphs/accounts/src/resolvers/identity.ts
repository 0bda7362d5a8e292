import type { Resolvers } from '../generated/resolvers.ts';
import {
  changePassword,
  deleteMe,
  confirmTotp,
  currentUser,
  disableTotp,
  enrollTotp,
  getUser,
  logIn,
  logOut,
  refreshSession,
  signUp,
  validUserName,
} from '../services/auth-service.ts';
import { changeEmail, requestPasswordReset, resendVerification, resetPassword, updateProfile, verifyEmail } from '../services/user-lifecycle.ts';

/**
 * Users, sign-in and sessions: the identity half of the accounts subgraph.
 * (`User.memberships` belongs to the tenancy half: resolvers/tenancy.ts.)
 */
export const identityResolvers = {
  Query: {
    me: (_, __, ctx) => currentUser(ctx),
  },
  Mutation: {
    signUp: (_, { input }, ctx) => signUp(ctx, input),
    logIn: (_, { input }, ctx) => logIn(ctx, input),
    refreshSession: (_, { refreshToken }, ctx) => refreshSession(ctx, refreshToken),
    logOut: (_, __, ctx) => logOut(ctx),
    changePassword: (_, { currentPassword, newPassword }, ctx) => changePassword(ctx, currentPassword, newPassword),
    deleteMe: (_, { currentPassword }, ctx) => deleteMe(ctx, currentPassword),
    enrollTotp: (_, __, ctx) => enrollTotp(ctx),
    confirmTotp: (_, { code }, ctx) => confirmTotp(ctx, code),
    disableTotp: (_, { code }, ctx) => disableTotp(ctx, code),
    verifyEmail: (_, { token }, ctx) => verifyEmail(ctx.em, token, ctx),
    resendVerificationEmail: (_, __, ctx) => resendVerification(ctx),
    requestPasswordReset: (_, { email }, ctx) => requestPasswordReset(ctx, email),
    resetPassword: (_, { token, newPassword }, ctx) => resetPassword(ctx, token, newPassword),
    changeEmail: (_, { newEmail, currentPassword }, ctx) => changeEmail(ctx, newEmail, currentPassword),
    updateProfile: (_, { input }, ctx) => updateProfile(ctx, input, validUserName),
  },
  User: {
    __resolveReference: ({ id }, ctx) => getUser(ctx, id),
    totpEnabled: (user) => user.totpEnabledAt !== null && user.totpEnabledAt !== undefined,
    emailVerified: (user) => user.emailVerifiedAt != null,
  },
} satisfies Resolvers;
