import { authorize } from '@listbackup/lib/access';
import type { Em } from '@listbackup/lib/db';
import { NotFoundError, ValidationError } from '@listbackup/lib/errors';
import type { PlatformsContext } from '../context.ts';
import { Connection, type ConnectionStatus } from '../entities/connection.ts';
import { findPlatformBySlug } from './platform-service.ts';

/** A connection the caller may read; any other is "not found", whether it exists or not. */
export async function getConnection(ctx: PlatformsContext, id: string): Promise<Connection> {
  const connection = await ctx.loaders.connection.load(id);
  if (!connection) throw new NotFoundError('Connection');
  await authorize(ctx, 'connections:read', connection.accountId, 'Connection');
  return connection;
}

export async function listConnections(ctx: PlatformsContext, accountId: string): Promise<Connection[]> {
  await authorize(ctx, 'connections:read', accountId);
  return ctx.loaders.connectionsByAccount.load(accountId);
}

export interface NewConnection {
  accountId: string;
  platformSlug: string;
  name: string;
  status?: ConnectionStatus;
  createdAt?: Date;
}

/**
 * Writes a connection without any authorization: for seeding and tests, and for the connection
 * flows (OAuth, API key) once they have authorized the caller themselves.
 */
export async function createConnectionRecord(em: Em, input: NewConnection): Promise<Connection> {
  const platform = await findPlatformBySlug(em, input.platformSlug);
  if (!platform) throw new ValidationError(`Unknown platform "${input.platformSlug}"`, 'platformSlug');
  const connection = em.create(Connection, {
    accountId: input.accountId,
    platformId: platform.id,
    name: input.name,
    status: input.status ?? 'PENDING',
    createdAt: input.createdAt ?? new Date(),
  });
  await em.persist(connection).flush();
  return connection;
}
