import type { GraphQLFormattedError } from 'graphql';
import type { EventEnvelope } from '@listbackup/lib/events/envelope';
import type { State } from './projection.ts';

/** Runs an operation through the gateway as the subscriber (same authorization as any query). */
export type AskGateway = (query: string, variables: Record<string, unknown>) => Promise<{ data?: any; errors?: readonly GraphQLFormattedError[] }>;

export interface CurrentEntity {
  key: string;
  state: State;
  /** The entity has reached its final state already. */
  final: boolean;
}

/** What one authorized subscription listens to. Built from the verified caller and the arguments. */
export interface LiveTopic {
  /** The tenant whose events feed it: from the authorization query, never from the arguments alone. */
  accountId: string;
  /** Event family: the subscription listens to `lb.evt.<accountId>.<family>.>`. */
  family: string;
  /** When the subscription is about one entity: only events whose envelope `subject` is this reach it. */
  subject?: string;
  /** The entity an event is about when it concerns this subscription, else null. */
  keyOf(event: EventEnvelope): string | null;
  /** What the event says about the entity, by schema field name. */
  stateOf(event: EventEnvelope): State;
  /** The state is final (the job has ended): later events of that entity are stale. */
  isFinal(state: State): boolean;
  /** The subscription completes once its entity is final (`jobUpdated`), or goes on (`jobEvents`). */
  completesWhenFinal: boolean;
  /** The entities whose current state is sent first; asked after the bus subscription is open, so nothing falls in between. */
  current(ask: AskGateway): Promise<CurrentEntity[]>;
}

/** A subscription field the gateway serves from events. */
export interface LiveField {
  /** Checks the caller may read what the arguments name, with a query the caller could send; its errors are the subscription's. */
  authorize(args: Record<string, any>, ask: AskGateway): Promise<LiveTopic | { errors: readonly GraphQLFormattedError[] }>;
}

const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const ACTIVE_STATUSES = new Set(['QUEUED', 'RUNNING']);

/** The job an event is about: `data.jobId`, else the event's subject. */
export function jobIdOf(event: EventEnvelope): string {
  return typeof event.data.jobId === 'string' ? event.data.jobId : event.subject;
}

/**
 * A job event's state in the shape of the `Job` type. The jobs service puts the job's fields, named
 * as in the schema, in `data.job` (with `__typename` and `id`); `data.sourceId` and the event's
 * (verified) account give the references. A flat `data` is read the same way.
 */
export function jobStateOf(event: EventEnvelope): State {
  const { job, jobId: _jobId, sourceId, accountId: _accountId, ...flat } = event.data;
  const fields = job && typeof job === 'object' && !Array.isArray(job) ? (job as State) : flat;
  const state: State = { ...fields, __typename: 'Job', id: jobIdOf(event), account: { __typename: 'Account', id: event.accountId } };
  if (typeof sourceId === 'string') state.source = { __typename: 'Source', id: sourceId };
  else if (sourceId === null) state.source = null;
  return state;
}

const isJobEvent = (event: EventEnvelope) => event.type.startsWith('job.');
const isFinalJob = (state: State) => typeof state.status === 'string' && FINAL_STATUSES.has(state.status);

/** Errors of the authorization query, placed at the subscription field. */
function at(errors: readonly GraphQLFormattedError[], field: string): GraphQLFormattedError[] {
  return errors.map((error) => ({ ...error, path: [field, ...(error.path?.slice(1) ?? [])] }));
}

export const jobUpdated: LiveField = {
  async authorize(args, ask) {
    const id = String(args.id);
    const access = await ask('query LiveJobAccess($id: ID!) { job(id: $id) { id account { id } } }', { id });
    if (access.errors?.length || !access.data?.job) return { errors: at(access.errors ?? [{ message: 'Job not found', extensions: { code: 'NOT_FOUND' } }], 'jobUpdated') };
    const jobId: string = access.data.job.id;
    return {
      accountId: access.data.job.account.id,
      family: 'job',
      subject: jobId,
      keyOf: (event) => (isJobEvent(event) && jobIdOf(event) === jobId ? jobId : null),
      stateOf: jobStateOf,
      isFinal: isFinalJob,
      completesWhenFinal: true,
      async current(askNow) {
        const now = await askNow('query LiveJobStatus($id: ID!) { job(id: $id) { id status } }', { id: jobId });
        const status = now.data?.job?.status;
        return [{ key: jobId, state: { __typename: 'Job', id: jobId }, final: typeof status === 'string' && FINAL_STATUSES.has(status) }];
      },
    };
  },
};

export const jobEvents: LiveField = {
  async authorize(args, ask) {
    const accountId = String(args.accountId);
    const sourceId = args.sourceId == null ? null : String(args.sourceId);
    // Reading one job of the account needs what reading its events needs (jobs:read).
    const access = sourceId
      ? await ask('query LiveJobEventsAccess($account: ID!, $source: ID!) { account(id: $account) { id jobs(first: 1) { edges { cursor } } } source(id: $source) { id account { id } } }', {
          account: accountId,
          source: sourceId,
        })
      : await ask('query LiveJobEventsAccess($account: ID!) { account(id: $account) { id jobs(first: 1) { edges { cursor } } } }', { account: accountId });
    if (access.errors?.length || !access.data?.account) return { errors: at(access.errors ?? [{ message: 'Account not found', extensions: { code: 'NOT_FOUND' } }], 'jobEvents') };
    if (sourceId && access.data.source?.account?.id !== access.data.account.id) {
      return { errors: [{ message: 'Source not found in this account', path: ['jobEvents'], extensions: { code: 'NOT_FOUND' } }] };
    }
    const verifiedAccount: string = access.data.account.id;
    return {
      accountId: verifiedAccount,
      family: 'job',
      keyOf(event) {
        if (!isJobEvent(event)) return null;
        if (sourceId && event.data.sourceId !== sourceId) return null;
        return jobIdOf(event);
      },
      stateOf: jobStateOf,
      isFinal: isFinalJob,
      completesWhenFinal: false,
      async current(askNow) {
        const now = await askNow(
          'query LiveActiveJobs($account: ID!) { account(id: $account) { jobs(first: 100, status: [QUEUED, RUNNING]) { edges { node { id status source { id } } } } } }',
          { account: verifiedAccount },
        );
        const jobs: { id: string; status: string; source: { id: string } | null }[] = (now.data?.account?.jobs?.edges ?? []).map((edge: { node: unknown }) => edge.node);
        return jobs
          .filter((job) => ACTIVE_STATUSES.has(job.status) && (!sourceId || job.source?.id === sourceId))
          .reverse() // oldest first, as their events would have come
          .map((job) => ({ key: job.id, state: { __typename: 'Job', id: job.id }, final: false }));
      },
    };
  },
};

/**
 * The signed-in person's new in-app notifications of one account. `notification.created` events
 * carry the notification's fields in `data.notification` and its reader in `data.userId`: only the
 * subscriber's own reach it.
 */
export const notificationAdded: LiveField = {
  async authorize(args, ask) {
    const accountId = String(args.accountId);
    const access = await ask('query LiveNotificationAccess($account: ID!) { me { id } account(id: $account) { id } }', { account: accountId });
    if (access.errors?.length || !access.data?.account || !access.data?.me) {
      return { errors: at(access.errors ?? [{ message: 'Account not found', extensions: { code: 'NOT_FOUND' } }], 'notificationAdded') };
    }
    const userId: string = access.data.me.id;
    const verifiedAccount: string = access.data.account.id;
    return {
      accountId: verifiedAccount,
      family: 'notification',
      keyOf: (event) => (event.type === 'notification.created' && event.data.userId === userId ? event.subject : null),
      stateOf: (event) => {
        const fields = event.data.notification && typeof event.data.notification === 'object' ? (event.data.notification as State) : {};
        return { ...fields, __typename: 'Notification', id: event.subject, account: { __typename: 'Account', id: event.accountId } };
      },
      isFinal: () => false,
      completesWhenFinal: false,
      async current() {
        return [];
      },
    };
  },
};

/** The Subscription fields served from events, by name. */
export const LIVE_FIELDS: Record<string, LiveField> = { jobUpdated, jobEvents, notificationAdded };
