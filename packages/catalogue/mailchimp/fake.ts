/**
 * A fake of the Mailchimp Marketing API 3.0 for what the connector uses: audiences (lists) with
 * their merge fields, audience members, campaigns with their content, templates with their default
 * content. Speaks the documented wire format:
 *
 * - collections page with `count` (default 10, at most 1,000) and `offset`, and answer
 *   `total_items`, in the order items were added; members filter on `since_last_changed`
 *   (changed after it, to the second);
 * - OAuth tokens as `Authorization: OAuth …` or `Bearer …`, API keys as Basic auth (any user name,
 *   the key as password);
 * - errors as RFC 7807 problem details (`application/problem+json`): `{"type", "title", "status",
 *   "detail", "instance"}`; 401 `API Key Invalid`, 404 `Resource Not Found`, 429 `Too Many Requests`;
 *   more than 10 requests of one user at once are a 429 too.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeServer, type ErrorAnswer, type Failure, type RecordedRequest } from '../testing/fake-server.ts';

type Json = Record<string, any>;

const TYPE = 'https://mailchimp.com/developer/marketing/docs/errors/';
const stamp = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');

export class FakeMailchimp extends FakeServer {
  /** OAuth access tokens (they never expire) and API keys. */
  readonly tokens = new Set<string>(['mc-oauth-valid', '0123456789abcdef0123456789abcdef-us21']);
  readonly lists: Json[] = [];
  readonly mergeFields = new Map<string, Json[]>();
  readonly members = new Map<string, Json[]>();
  readonly campaigns: Json[] = [];
  readonly contents = new Map<string, Json>();
  readonly templates: Json[] = [];

  addList(name: string): Json {
    const id = randomBytes(5).toString('hex');
    const list = { id, web_id: this.lists.length + 1, name, contact: { company: 'Acme', country: 'US' }, permission_reminder: 'You signed up on our site.', campaign_defaults: { from_name: 'Acme', from_email: 'news@acme.example', subject: '', language: 'en' }, date_created: stamp(this.now()), visibility: 'pub', stats: { member_count: 0 } };
    this.lists.push(list);
    this.members.set(id, []);
    this.mergeFields.set(id, [
      { merge_id: 1, tag: 'FNAME', name: 'First Name', type: 'text', required: false, list_id: id },
      { merge_id: 2, tag: 'LNAME', name: 'Last Name', type: 'text', required: false, list_id: id },
    ]);
    return list;
  }

  addMember(list: Json, email: string, extra: Json = {}): Json {
    const id = createHash('md5').update(email.toLowerCase()).digest('hex');
    const at = stamp(this.now());
    const member = { id, email_address: email, unique_email_id: randomBytes(5).toString('hex'), contact_id: randomBytes(16).toString('hex'), full_name: '', email_type: 'html', status: 'subscribed', merge_fields: { FNAME: email.split('@')[0], LNAME: '' }, interests: {}, timestamp_signup: at, timestamp_opt: at, member_rating: 2, last_changed: at, language: '', vip: false, tags: [], list_id: list.id, ...extra };
    this.members.get(list.id)!.push(member);
    list.stats.member_count++;
    return member;
  }

  editMember(member: Json, patch: Json): void {
    Object.assign(member, patch, { last_changed: stamp(this.now()) });
  }

  addCampaign(list: Json, subject: string, html: string): Json {
    const id = randomBytes(5).toString('hex');
    const campaign = { id, web_id: this.campaigns.length + 1, type: 'regular', create_time: stamp(this.now()), status: 'save', emails_sent: 0, send_time: '', content_type: 'template', recipients: { list_id: list.id, list_name: list.name }, settings: { subject_line: subject, title: subject, from_name: 'Acme', reply_to: 'news@acme.example' } };
    this.campaigns.push(campaign);
    this.contents.set(id, { plain_text: html.replace(/<[^>]+>/g, ''), html, _links: [] });
    return campaign;
  }

  addTemplate(name: string, html: string): Json {
    const template = { id: 10_000 + this.templates.length, type: 'user', name, drag_and_drop: false, responsive: true, category: '', date_created: stamp(this.now()), date_edited: stamp(this.now()), created_by: 'Ada', active: true, folder_id: '', thumbnail: '', share_url: '', content_type: 'html', html };
    this.templates.push(template);
    return template;
  }

  #problem(status: number, title: string, detail: string): ErrorAnswer {
    return { status, body: { type: TYPE, title, status, detail, instance: randomUUID() }, headers: { 'content-type': 'application/problem+json; charset=utf-8' } };
  }

  protected errorAnswer(status: number, _failure: Failure): ErrorAnswer {
    if (status === 429) return this.#problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.');
    if (status === 401) return this.#problem(401, 'API Key Invalid', "Your API key may be invalid, or you've attempted to access the wrong datacenter.");
    if (status === 403) return this.#problem(403, 'Forbidden', "The API key provided is linked to a different datacenter or this user doesn't have permission to access this resource.");
    if (status === 404) return this.#problem(404, 'Resource Not Found', 'The requested resource could not be found.');
    if (status >= 500) return this.#problem(status, 'Internal Server Error', 'An unexpected internal error has occurred. Please contact Support for more information.');
    return this.#problem(status, 'Invalid Resource', 'The resource submitted could not be validated.');
  }

  #credential(request: RecordedRequest): string | undefined {
    const [scheme, value] = String(request.headers.authorization ?? '').split(' ', 2);
    if (/^(oauth|bearer)$/i.test(scheme ?? '')) return value;
    if (/^basic$/i.test(scheme ?? '') && value) return Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':');
    return undefined;
  }

  protected route(request: RecordedRequest, res: ServerResponse): undefined {
    const send = (answer: ErrorAnswer): undefined => {
      this.answer(request, res, answer.status, answer.body, answer.headers);
    };
    const credential = this.#credential(request);
    if (!credential || !this.tokens.has(credential)) return send(this.errorAnswer(401, {}));
    if (request.method !== 'GET') return send(this.#problem(405, 'Method Not Allowed', 'The requested method and resource are not compatible.'));
    const q = request.query;
    const count = Number(q.get('count') ?? 10);
    const offset = Number(q.get('offset') ?? 0);
    if (!Number.isInteger(count) || count < 1 || count > 1000 || !Number.isInteger(offset) || offset < 0) {
      return send(this.#problem(400, 'Invalid Resource', 'count must be between 1 and 1000, offset at least 0'));
    }
    const reply = (body: unknown): undefined => {
      this.answer(request, res, 200, body);
    };
    const page = (key: string, all: Json[], extra: Json = {}): undefined => {
      this.answer(request, res, 200, { [key]: all.slice(offset, offset + count), ...extra, total_items: all.length, _links: [] });
    };
    const path = request.path.replace(/^\/3\.0/, '').replace(/\/$/, '');
    let match: RegExpExecArray | null;
    if (path === '/lists') return page('lists', this.lists, { constraints: { may_create: true } });
    if ((match = /^\/lists\/([^/]+)\/merge-fields$/.exec(path))) {
      const fields = this.mergeFields.get(match[1]);
      if (!fields) return send(this.errorAnswer(404, {}));
      return page('merge_fields', fields, { list_id: match[1] });
    }
    if ((match = /^\/lists\/([^/]+)\/members$/.exec(path))) {
      let members = this.members.get(match[1]);
      if (!members) return send(this.errorAnswer(404, {}));
      const since = q.get('since_last_changed');
      if (since !== null) {
        const at = Date.parse(since);
        if (Number.isNaN(at)) return send(this.#problem(400, 'Invalid Resource', 'since_last_changed is not a date'));
        members = members.filter((m) => Date.parse(m.last_changed) > at);
      }
      return page('members', members, { list_id: match[1] });
    }
    if (path === '/campaigns') return page('campaigns', this.campaigns);
    if ((match = /^\/campaigns\/([^/]+)\/content$/.exec(path))) {
      const content = this.contents.get(match[1]);
      return content ? reply(content) : send(this.errorAnswer(404, {}));
    }
    if (path === '/templates') return page('templates', this.templates.map(({ html: _html, ...template }) => template));
    if ((match = /^\/templates\/(\d+)\/default-content$/.exec(path))) {
      const template = this.templates.find((t) => String(t.id) === match![1]);
      return template ? reply({ sections: {}, html: template.html, _links: [] }) : send(this.errorAnswer(404, {}));
    }
    return send(this.errorAnswer(404, {}));
  }
}
