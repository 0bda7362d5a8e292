import { describe, expect, it } from 'vitest';
import { actorOf, createEvent, readAnyEvent, readEvent, systemActor } from '../../src/events/contract.ts';
import { parseEvent } from '../../src/events/envelope.ts';

const account = '0190d5a8-0000-7000-8000-000000000001';

describe('the event contract', () => {
  it('builds an envelope whose data has the shape of its type, and reads it back typed', () => {
    const event = createEvent('account.created', account, account, { name: 'Acme', parentId: null });
    expect(event).toMatchObject({ type: 'account.created', accountId: account, subject: account, data: { name: 'Acme', parentId: null } });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const wire = parseEvent(JSON.stringify(event));
    expect(readEvent(wire, 'account.created')?.data.name).toBe('Acme');
    expect(readAnyEvent(wire)?.type).toBe('account.created');
  });

  it('refuses to build an event whose data is off its contract', () => {
    // A publisher with a bug: the compiler catches most; the runtime check catches the rest (spreads, casts).
    const bad = { name: 42, parentId: null } as unknown as { name: string; parentId: null };
    expect(() => createEvent('account.created', account, account, bad)).toThrow(/account.created does not match its contract/);
  });

  it('reads an envelope of another type or an unknown shape as null, for consumers to skip', () => {
    const created = createEvent('account.created', account, account, { name: 'Acme', parentId: null });
    expect(readEvent(created, 'user.created')).toBeNull();
    expect(readEvent({ ...created, data: { name: 7 } }, 'account.created')).toBeNull();
    expect(readAnyEvent({ ...created, type: 'widget.created' })).toBeNull();
  });

  it('carries the actor: who (user, API key, service, anonymous) and from where', () => {
    const request = { clientIp: '203.0.113.9', userAgent: `agent/${'x'.repeat(600)}` };
    const byUser = actorOf({ ...request, principal: { kind: 'user', userId: 'u1', sessionId: 's1' } });
    expect(byUser).toEqual({ kind: 'user', id: 'u1', ip: '203.0.113.9', userAgent: `agent/${'x'.repeat(506)}` });
    expect(actorOf({ principal: { kind: 'apiKey', apiKeyId: 'k1', accountId: account, scopes: [] } })).toEqual({ kind: 'apiKey', id: 'k1', ip: null, userAgent: null });
    expect(actorOf({ principal: { kind: 'anonymous' }, clientIp: '198.51.100.1' })).toMatchObject({ kind: 'anonymous', id: null, ip: '198.51.100.1' });

    const event = createEvent('account.created', account, account, { name: 'Acme', parentId: null }, { actor: byUser });
    expect(parseEvent(JSON.stringify(event)).actor).toEqual(byUser);
    expect(createEvent('account.created', account, account, { name: 'Acme', parentId: null }, { actor: systemActor('scheduler') }).actor).toEqual({ kind: 'system', id: 'scheduler' });
    expect(createEvent('account.created', account, account, { name: 'Acme', parentId: null })).not.toHaveProperty('actor');
  });
});
