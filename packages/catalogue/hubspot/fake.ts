/**
 * A fake of HubSpot's CRM v3 API for what the connector uses: objects (list with `limit` /
 * `after` / `properties`, read, create, update), the search endpoint (`filterGroups` on the
 * last-modified property, `sorts`, at most 200 a page and 10,000 results a query), properties,
 * pipelines and owners. Speaks the documented wire format:
 *
 * - pages end with `paging.next.after` (and `link`) while there are more;
 * - `X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds`, `-Daily`,
 *   `-Daily-Remaining` on every answer but search's; over the rolling limit a 429 with
 *   `{"status":"error","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING",…}`; search
 *   has its own limit of 5 a second (`policyName: "SECONDLY"`); `overLimit` counts both;
 * - errors as `{"status":"error","message":…,"category":…,"correlationId":…}`: an expired token
 *   `EXPIRED_AUTHENTICATION`, an unknown one `INVALID_AUTHENTICATION`, a missing scope
 *   `MISSING_SCOPES` (403), an existing contact's email `CONFLICT` (409, "Existing ID: …").
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

export interface FakeObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
}

/** The property each object type's search filters and sorts on to find what changed. */
export const LAST_MODIFIED: Record<string, string> = { contacts: 'lastmodifieddate' };
const lastModified = (type: string) => LAST_MODIFIED[type] ?? 'hs_lastmodifieddate';
const CREATED: Record<string, string> = { contacts: 'createdate' };
const created = (type: string) => CREATED[type] ?? 'createdate';

/** Properties answered when a request names none, per object type. */
const DEFAULT_PROPERTIES: Record<string, string[]> = {
  contacts: ['firstname', 'lastname', 'email'],
  companies: ['name', 'domain'],
  deals: ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate'],
  tickets: ['subject', 'content', 'hs_pipeline', 'hs_pipeline_stage'],
};

/** Scopes an object type needs. */
const SCOPES: Record<string, string> = {
  contacts: 'crm.objects.contacts.read',
  companies: 'crm.objects.companies.read',
  deals: 'crm.objects.deals.read',
  tickets: 'tickets',
  products: 'e-commerce',
  line_items: 'e-commerce',
  calls: 'crm.objects.contacts.read',
  emails: 'crm.objects.contacts.read',
  meetings: 'crm.objects.contacts.read',
  notes: 'crm.objects.contacts.read',
  tasks: 'crm.objects.contacts.read',
  owners: 'crm.objects.owners.read',
};
const WRITE_SCOPES: Record<string, string> = { contacts: 'crm.objects.contacts.write', companies: 'crm.objects.companies.write' };

export class FakeHubSpot extends FakeServer {
  readonly tokens = new Set<string>(['hs-valid']);
  /** Access tokens past their 30 minutes: `EXPIRED_AUTHENTICATION`. */
  readonly expired = new Set<string>(['hs-expired']);
  readonly scopes = new Set([...Object.values(SCOPES), ...Object.values(WRITE_SCOPES)]);
  readonly objects = new Map<string, FakeObject[]>();
  readonly properties = new Map<string, PropertyDefinition[]>();
  readonly pipelines = new Map<string, Record<string, unknown>[]>();
  readonly owners: Record<string, unknown>[] = [];
  /** The rolling limit of the app in the account: `max` requests in any `intervalMs`. */
  rate = { max: 110, intervalMs: 10_000 };
  searchPerSecond = 5;
  /** Results one search query reaches at most (HubSpot: 10,000); `after` beyond it is refused. */
  searchCap = 10_000;
  /** Most results a list page holds, whatever `limit` asks (tests make pages small). */
  maxPage = 100;
  readonly overLimit: RecordedRequest[] = [];
  #calls = new Map<string, number[]>();
  #searches = new Map<string, number[]>();
  #nextId = 5000;
  #daily = 250_000;

  constructor() {
    super();
    for (const type of Object.keys(SCOPES)) {
      if (type === 'owners') continue;
      this.objects.set(type, []);
      const names = [...new Set([...(DEFAULT_PROPERTIES[type] ?? ['hs_title', 'hs_body']), 'hs_object_id', created(type), lastModified(type), 'notes_internal'])];
      this.properties.set(
        type,
        names.map((name) => {
          const readOnly = name === 'hs_object_id' || name === created(type) || name === lastModified(type);
          return { name, label: name, type: 'string', fieldType: 'text', modificationMetadata: { archivable: !readOnly, readOnlyDefinition: readOnly, readOnlyValue: readOnly } };
        }),
      );
    }
  }

  add(type: string, properties: Record<string, string | null>): FakeObject {
    const id = String(++this.#nextId);
    const at = new Date(this.now()).toISOString();
    const object: FakeObject = { id, properties: { ...properties, hs_object_id: id, [created(type)]: at, [lastModified(type)]: at }, createdAt: at, updatedAt: at, archived: false };
    this.objects.get(type)!.push(object);
    return object;
  }

  update(type: string, id: string, properties: Record<string, string | null>): FakeObject {
    const object = this.objects.get(type)!.find((o) => o.id === id)!;
    const at = new Date(this.now()).toISOString();
    Object.assign(object.properties, properties, { [lastModified(type)]: at });
    object.updatedAt = at;
    return object;
  }

  addPipeline(type: 'deals' | 'tickets', label: string, stages: string[]): Record<string, unknown> {
    const at = new Date(this.now()).toISOString();
    const pipeline = { id: String(++this.#nextId), label, displayOrder: 0, archived: false, createdAt: at, updatedAt: at, stages: stages.map((stage, i) => ({ id: `${stage}-${i}`, label: stage, displayOrder: i, metadata: {}, archived: false, createdAt: at, updatedAt: at })) };
    this.pipelines.set(type, [...(this.pipelines.get(type) ?? []), pipeline]);
    return pipeline;
  }

  addOwner(email: string): Record<string, unknown> {
    const at = new Date(this.now()).toISOString();
    const owner = { id: String(++this.#nextId), email, firstName: email.split('@')[0], lastName: 'Owner', userId: ++this.#nextId, createdAt: at, updatedAt: at, archived: false, teams: [] };
    this.owners.push(owner);
    return owner;
  }

  #error(status: number, message: string, category: string, extra: Record<string, unknown> = {}): ErrorAnswer {
    return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return { ...this.#error(429, 'You have reached your ten_secondly_rolling limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' }) };
    if (status === 401) return this.#error(401, 'Authentication credentials not found. This API supports OAuth 2.0 authentication.', 'INVALID_AUTHENTICATION');
    if (status >= 500) return this.#error(status, 'internal error', 'INTERNAL_ERROR');
    return this.#error(status, 'error', 'VALIDATION_ERROR');
  }

  #rateHeaders(token: string): Record<string, string> {
    const calls = this.#calls.get(token) ?? [];
    return {
      'x-hubspot-ratelimit-max': String(this.rate.max),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, this.rate.max - calls.length)),
      'x-hubspot-ratelimit-interval-milliseconds': String(this.rate.intervalMs),
      'x-hubspot-ratelimit-daily': '250000',
      'x-hubspot-ratelimit-daily-remaining': String(this.#daily),
    };
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const token = tokenOf(request);
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, answer.headers);
    };
    if (!token || this.expired.has(token)) {
      send(token ? this.#error(401, 'The OAuth token used to make this call expired 3 minute(s) ago.', 'EXPIRED_AUTHENTICATION') : this.errorAnswer(401, {}));
      return;
    }
    if (!this.tokens.has(token)) return send(this.errorAnswer(401, {}));

    const search = request.method === 'POST' && /\/search$/.test(request.path);
    const now = this.now();
    let headers: Record<string, string> = {};
    if (search) {
      const calls = (this.#searches.get(token) ?? []).filter((at) => at > now - 1000);
      if (calls.length >= this.searchPerSecond) {
        request.retryAllowedAt = calls[0] + 1000;
        this.overLimit.push(request);
        return send(this.#error(429, 'You have reached your secondly limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'SECONDLY' }));
      }
      this.#searches.set(token, [...calls, now]);
    } else {
      const calls = (this.#calls.get(token) ?? []).filter((at) => at > now - this.rate.intervalMs);
      this.#calls.set(token, calls);
      if (calls.length >= this.rate.max) {
        request.retryAllowedAt = calls[0] + this.rate.intervalMs;
        this.overLimit.push(request);
        const answer = this.#error(429, 'You have reached your ten_secondly_rolling limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
        return send({ ...answer, headers: this.#rateHeaders(token) });
      }
      calls.push(now);
      this.#daily--;
      headers = this.#rateHeaders(token);
    }
    const reply = (status: number, body: unknown): undefined => {
      this.answer(request, res, status, body, headers);
    };
    const fail = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, headers);
    };
    const missingScope = (scope: string) =>
      this.#error(403, "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.", 'MISSING_SCOPES', {
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [scope] } }],
      });

    const parts = request.path.split('/').filter(Boolean);
    if (parts[0] !== 'crm' || parts[1] !== 'v3') return fail(this.#error(404, 'Not found', 'OBJECT_NOT_FOUND'));
    const [, , area, type, id] = parts;
    if (area === 'owners') {
      if (!this.scopes.has(SCOPES.owners)) return fail(missingScope(SCOPES.owners));
      return this.#page(request, reply, this.owners, (o) => o);
    }
    const scope = SCOPES[type];
    if (!scope || !this.objects.has(type)) return fail(this.#error(400, `Unable to infer object type from: ${type}`, 'VALIDATION_ERROR'));
    if (!this.scopes.has(scope)) return fail(missingScope(scope));

    if (area === 'properties' && request.method === 'GET') return reply(200, { results: this.properties.get(type) });
    if (area === 'pipelines' && request.method === 'GET') return reply(200, { results: this.pipelines.get(type) ?? [] });
    if (area !== 'objects') return fail(this.#error(404, 'Not found', 'OBJECT_NOT_FOUND'));

    const all = this.objects.get(type)!;
    const view = (object: FakeObject, names: string[] | undefined) => {
      const wanted = new Set([...(names ?? DEFAULT_PROPERTIES[type] ?? []), 'hs_object_id', created(type), lastModified(type)]);
      return { id: object.id, properties: Object.fromEntries([...wanted].map((name) => [name, object.properties[name] ?? null])), createdAt: object.createdAt, updatedAt: object.updatedAt, archived: object.archived };
    };
    const listed = (value: string | null) => (value ? value.split(',') : undefined);

    if (request.method === 'GET' && id === undefined) {
      const archived = request.query.get('archived') === 'true';
      const names = listed(request.query.get('properties'));
      return this.#page(request, reply, all.filter((o) => o.archived === archived), (o) => view(o, names));
    }
    if (request.method === 'POST' && id === 'search') {
      let body: { filterGroups?: { filters?: { propertyName: string; operator: string; value?: string }[] }[]; sorts?: { propertyName: string; direction: string }[]; properties?: string[]; limit?: number; after?: string };
      try {
        body = JSON.parse(request.body);
      } catch {
        return fail(this.#error(400, 'Invalid input JSON', 'VALIDATION_ERROR'));
      }
      const limit = Math.min(200, body.limit ?? 10);
      const after = Number(body.after ?? 0);
      if (after + limit > this.searchCap) return fail(this.#error(400, `There was a problem with the request. The maximum number of results a search returns is ${this.searchCap}.`, 'VALIDATION_ERROR'));
      let results = all.filter((o) => !o.archived);
      for (const filter of body.filterGroups?.[0]?.filters ?? []) {
        const value = Number(filter.value ?? Number.NaN);
        const of = (o: FakeObject) => Date.parse(o.properties[filter.propertyName] ?? '');
        if (filter.operator === 'GTE') results = results.filter((o) => of(o) >= value);
        else if (filter.operator === 'GT') results = results.filter((o) => of(o) > value);
        else if (filter.operator === 'LTE') results = results.filter((o) => of(o) <= value);
        else return fail(this.#error(400, `Unsupported operator ${filter.operator}`, 'VALIDATION_ERROR'));
      }
      const sort = body.sorts?.[0];
      if (sort) {
        const sign = sort.direction === 'DESCENDING' ? -1 : 1;
        results = [...results].sort((a, b) => sign * (Date.parse(a.properties[sort.propertyName] ?? '') - Date.parse(b.properties[sort.propertyName] ?? '')) || Number(a.id) - Number(b.id));
      }
      const page = results.slice(after, after + limit).map((o) => view(o, body.properties));
      const next = after + limit < results.length ? { paging: { next: { after: String(after + limit) } } } : {};
      return reply(200, { total: results.length, results: page, ...next });
    }
    if (request.method === 'GET' && id) {
      const object = all.find((o) => o.id === id && !o.archived);
      return object ? reply(200, view(object, listed(request.query.get('properties')))) : fail(this.#error(404, 'Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND'));
    }
    if ((request.method === 'PATCH' && id) || (request.method === 'POST' && id === undefined)) {
      const write = WRITE_SCOPES[type];
      if (!write) return fail(this.#error(403, 'This object type cannot be written by this app.', 'MISSING_SCOPES'));
      if (!this.scopes.has(write)) return fail(missingScope(write));
      let input: { properties?: Record<string, unknown> };
      try {
        input = JSON.parse(request.body);
      } catch {
        return fail(this.#error(400, 'Invalid input JSON', 'VALIDATION_ERROR'));
      }
      const properties = input.properties ?? {};
      const definitions = this.properties.get(type)!;
      for (const [name, value] of Object.entries(properties)) {
        const definition = definitions.find((d) => d.name === name);
        if (!definition) return fail(this.#error(400, `Property values were not valid: [{"isValid":false,"message":"Property \\"${name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${name}"}]`, 'VALIDATION_ERROR'));
        if (definition.modificationMetadata.readOnlyValue) return fail(this.#error(400, `Property values were not valid: [{"isValid":false,"message":"\\"${name}\\" is a read only property; its value cannot be set.","error":"READ_ONLY_VALUE","name":"${name}"}]`, 'VALIDATION_ERROR'));
        if (value !== null && typeof value !== 'string') return fail(this.#error(400, `Property values were not valid: ${name} must be a string`, 'VALIDATION_ERROR'));
      }
      const values = properties as Record<string, string | null>;
      if (request.method === 'POST') {
        const email = values.email;
        const existing = type === 'contacts' && email ? all.find((o) => o.properties.email === email && !o.archived) : undefined;
        if (existing) return fail(this.#error(409, `Contact already exists. Existing ID: ${existing.id}`, 'CONFLICT'));
        return reply(201, view(this.add(type, values), Object.keys(values)));
      }
      const object = all.find((o) => o.id === id && !o.archived);
      if (!object) return fail(this.#error(404, 'Object not found.  objectId are usually numeric.', 'OBJECT_NOT_FOUND'));
      return reply(200, view(this.update(type, object.id, values), Object.keys(values)));
    }
    return fail(this.#error(405, 'Method not allowed', 'VALIDATION_ERROR'));
  }

  #page<T>(request: RecordedRequest, reply: (status: number, body: unknown) => undefined, all: T[], view: (item: T) => unknown): undefined {
    const limit = Math.min(this.maxPage, Number(request.query.get('limit') ?? 10));
    const after = request.query.get('after');
    let offset = 0;
    if (after) {
      const decoded = /^(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!decoded) return reply(400, { status: 'error', message: `Invalid after: ${after}`, correlationId: randomUUID(), category: 'VALIDATION_ERROR' });
      offset = Number(decoded[1]);
    }
    const results = all.slice(offset, offset + limit).map(view);
    if (offset + limit >= all.length) return reply(200, { results });
    const next = Buffer.from(String(offset + limit)).toString('base64url');
    const link = new URL(`${this.url}${request.path}`);
    for (const [key, value] of request.query) if (key !== 'after') link.searchParams.set(key, value);
    link.searchParams.set('after', next);
    return reply(200, { results, paging: { next: { after: next, link: link.toString() } } });
  }
}
