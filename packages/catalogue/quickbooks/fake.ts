/**
 * A fake of the QuickBooks Online Accounting API v3 for what the connector uses: the query
 * endpoint of one company (`GET /v3/company/{realmId}/query?query=…&minorversion=…`) and its
 * `companyinfo`. Speaks the documented wire format:
 *
 * - `SELECT * FROM <Entity> [WHERE Active IN (true, false) [AND] Metadata.LastUpdatedTime >= '…']
 *   STARTPOSITION n MAXRESULTS m` (m at most 1,000) is parsed; anything else is a 400
 *   `QueryParserError`. Name lists (Customer, Vendor, Employee, Item, Account) leave inactive
 *   entities out unless `Active` is asked about;
 * - answers `{"QueryResponse":{"<Entity>":[…],"startPosition":n,"maxResults":k},"time":"…"}`, an
 *   empty one `{"QueryResponse":{},"time":"…"}`; entities carry `MetaData.LastUpdatedTime` as
 *   `2026-01-05T10:15:30-08:00`;
 * - JSON only when asked for (`Accept: application/json`), XML otherwise;
 * - errors as `{"Fault":{"Error":[{"Message","Detail","code"}],"type"},"time"}`: 401
 *   `AuthenticationFailed` (3200), 429 `ThrottleExceeded` (003001), 400 `ValidationFault`.
 */
import type { ServerResponse } from 'node:http';
import { FakeServer, tokenOf, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

const LISTS = new Set(['Customer', 'Vendor', 'Employee', 'Item', 'Account']);
const ENTITIES = new Set([...LISTS, 'Invoice', 'Bill', 'Payment', 'JournalEntry']);

/** QuickBooks prints times in the company's zone: 2026-01-05T10:15:30-08:00. */
const qbTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000 - 8 * 3600_000).toISOString().replace('.000Z', '-08:00');

export class FakeQuickBooks extends FakeServer {
  readonly realmId = '9130357992211726';
  readonly tokens = new Set<string>(['qb-valid']);
  readonly entities = new Map<string, Json[]>();
  #nextId = 1;

  get prefix(): string {
    return `/v3/company/${this.realmId}`;
  }

  add(entity: string, values: Json): Json {
    const at = qbTime(this.now());
    const record: Json = { Id: String(this.#nextId++), SyncToken: '0', domain: 'QBO', sparse: false, ...(LISTS.has(entity) ? { Active: true } : {}), ...values, MetaData: { CreateTime: at, LastUpdatedTime: at } };
    if (!this.entities.has(entity)) this.entities.set(entity, []);
    this.entities.get(entity)!.push(record);
    return record;
  }

  edit(record: Json, values: Json): void {
    Object.assign(record, values, { SyncToken: String(Number(record.SyncToken) + 1) });
    record.MetaData = { ...record.MetaData, LastUpdatedTime: qbTime(this.now()) };
  }

  fault(status: number, type: string, code: string, message: string, detail: string): ErrorAnswer {
    return { status, body: { Fault: { Error: [{ Message: message, Detail: detail, code }], type }, time: new Date(this.now()).toISOString() } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 401) return this.fault(401, 'AUTHENTICATION', '3200', 'message=AuthenticationFailed; errorCode=003200; statusCode=401', 'Token expired: the access token is invalid or has expired');
    if (status === 429) return this.fault(429, 'ThrottleExceeded', '003001', 'message=ThrottleExceeded; errorCode=003001; statusCode=429', 'The request limit was reached.');
    if (status === 403) return this.fault(403, 'AuthorizationFault', '003100', 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403', 'The application is not authorized for this company');
    if (status >= 500) return this.fault(status, 'SystemFault', '10000', 'An application error has occurred while processing your request', 'System Failure Error: An unexpected error occurred');
    return this.fault(status, 'ValidationFault', '2500', 'Invalid Reference Id', 'Something you are trying to use has been made inactive');
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, answer.headers);
    };
    const token = tokenOf(request);
    if (!token || !this.tokens.has(token)) return send(this.errorAnswer(401, {}));
    if (!String(request.headers.accept ?? '').includes('application/json')) {
      request.status = 200;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"/>');
      return undefined;
    }
    if (request.method !== 'GET' || !request.path.startsWith(`${this.prefix}/`)) return send(this.fault(404, 'ValidationFault', '610', 'Object Not Found', 'Object Not Found : Something you are trying to use is not found'));
    const path = request.path.slice(this.prefix.length);
    const time = new Date(this.now()).toISOString();
    if (path === `/companyinfo/${this.realmId}`) return send({ status: 200, body: { CompanyInfo: { Id: this.realmId, CompanyName: 'Acme Books', Country: 'US' }, time } });
    if (path !== '/query') return send(this.fault(404, 'ValidationFault', '610', 'Object Not Found', 'Object Not Found : Something you are trying to use is not found'));
    const query = request.query.get('query') ?? '';
    const parsed = /^SELECT \* FROM (\w+)(?: WHERE (Active IN \(true, false\))?(?: AND )?(?:Metadata\.LastUpdatedTime >= '([^']+)')?)? STARTPOSITION (\d+) MAXRESULTS (\d+)$/i.exec(query);
    if (!parsed || !ENTITIES.has(parsed[1])) {
      return send(this.fault(400, 'ValidationFault', '4000', 'Error parsing query', `QueryParserError: Encountered an unexpected token in "${query.slice(0, 60)}"`));
    }
    const [, entity, active, since, startText, maxText] = parsed;
    const start = Number(startText);
    const max = Number(maxText);
    if (start < 1 || max < 1 || max > 1000) return send(this.fault(400, 'ValidationFault', '4001', 'Invalid query', 'QueryValidationError: MAXRESULTS must be between 1 and 1000'));
    const from = since ? Date.parse(since) : Number.NEGATIVE_INFINITY;
    if (Number.isNaN(from)) return send(this.fault(400, 'ValidationFault', '4001', 'Invalid query', `QueryValidationError: value ${since} is not a valid date`));
    const all = (this.entities.get(entity) ?? []).filter((r) => (active || !LISTS.has(entity) || r.Active) && Date.parse(r.MetaData.LastUpdatedTime) >= from);
    const page = all.slice(start - 1, start - 1 + max);
    const body = page.length ? { QueryResponse: { [entity]: page, startPosition: start, maxResults: page.length }, time } : { QueryResponse: {}, time };
    return send({ status: 200, body });
  }
}
