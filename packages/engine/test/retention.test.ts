import { describe, expect, it } from 'vitest';
import { EngineConfigError } from '../src/errors.ts';
import { isoWeek, prune, validateRetention } from '../src/retention.ts';

/** Snapshots at the given ISO times, ids s0, s1, … in that order. */
const at = (...times: string[]) => times.map((createdAt, i) => ({ id: `s${i}`, createdAt }));
const ids = (list: { id: string }[]) => list.map((s) => s.id);

describe('retention (GFS prune)', () => {
  it('keeps the newest N with keepLast and drops the rest', () => {
    const snapshots = at('2026-03-01T10:00:00Z', '2026-03-02T10:00:00Z', '2026-03-03T10:00:00Z', '2026-03-04T10:00:00Z');
    const decision = prune(snapshots, { keepLast: 2 });
    expect(ids(decision.keep)).toEqual(['s3', 's2']);
    expect(ids(decision.drop)).toEqual(['s1', 's0']);
    expect(decision.reasons.get('s3')).toEqual(['last']);
  });

  it('keeps the newest snapshot of each of the last N days that have snapshots', () => {
    const snapshots = at(
      '2026-03-01T08:00:00Z',
      '2026-03-01T20:00:00Z', // newest of Mar 1
      '2026-03-03T09:00:00Z', // newest of Mar 3 (no snapshot on Mar 2)
      '2026-03-04T01:00:00Z',
      '2026-03-04T23:59:59Z', // newest of Mar 4
    );
    const decision = prune(snapshots, { keepDaily: 3 });
    expect(ids(decision.keep)).toEqual(['s4', 's2', 's1']);
    expect(decision.reasons.get('s2')).toEqual(['daily 2026-03-03']);
    expect(ids(decision.drop)).toEqual(['s3', 's0']);
  });

  it('takes days in the policy time zone', () => {
    // 23:30 UTC on Mar 1 is already Mar 2 in Berlin; 00:30 UTC on Mar 2 is Mar 2 there too.
    const snapshots = at('2026-03-01T23:30:00Z', '2026-03-02T00:30:00Z');
    expect(ids(prune(snapshots, { keepDaily: 2 }).keep)).toEqual(['s1', 's0']);
    expect(ids(prune(snapshots, { keepDaily: 2, timeZone: 'Europe/Berlin' }).keep)).toEqual(['s1']);
  });

  it('uses ISO weeks (Monday to Sunday), across a year boundary', () => {
    expect(isoWeek({ year: 2026, month: 1, day: 1 })).toEqual({ year: 2026, week: 1 }); // Thursday
    expect(isoWeek({ year: 2027, month: 1, day: 1 })).toEqual({ year: 2026, week: 53 }); // Friday
    expect(isoWeek({ year: 2024, month: 12, day: 30 })).toEqual({ year: 2025, week: 1 }); // Monday
    const snapshots = at(
      '2026-03-01T12:00:00Z', // Sunday, week 9
      '2026-03-02T12:00:00Z', // Monday, week 10
      '2026-03-08T12:00:00Z', // Sunday, week 10 — newest of week 10
      '2026-03-09T12:00:00Z', // Monday, week 11
    );
    const decision = prune(snapshots, { keepWeekly: 3 });
    expect(ids(decision.keep)).toEqual(['s3', 's2', 's0']);
    expect(decision.reasons.get('s2')).toEqual(['weekly 2026-W10']);
  });

  it('keeps monthly and yearly snapshots, and a snapshot kept by several rules lists every reason', () => {
    const snapshots = at('2024-06-15T00:00:00Z', '2025-01-10T00:00:00Z', '2025-12-31T00:00:00Z', '2026-01-31T00:00:00Z', '2026-02-01T00:00:00Z', '2026-02-20T00:00:00Z');
    const decision = prune(snapshots, { keepMonthly: 3, keepYearly: 3 });
    expect(ids(decision.keep)).toEqual(['s5', 's3', 's2', 's0']);
    expect(decision.reasons.get('s5')).toEqual(['monthly 2026-02', 'yearly 2026']);
    expect(decision.reasons.get('s2')).toEqual(['monthly 2025-12', 'yearly 2025']);
    expect(decision.reasons.get('s0')).toEqual(['yearly 2024']);
    expect(ids(decision.drop)).toEqual(['s4', 's1']);
  });

  it('combines rules as a union (grandfather-father-son)', () => {
    // Daily snapshots at noon for 120 days.
    const start = Date.parse('2026-01-01T12:00:00Z');
    const snapshots = Array.from({ length: 120 }, (_, i) => ({ id: `d${i}`, createdAt: new Date(start + i * 86_400_000) }));
    const decision = prune(snapshots, { keepLast: 2, keepDaily: 7, keepWeekly: 4, keepMonthly: 3 });
    const kept = ids(decision.keep);
    // 7 daily (d113–d119) ∪ 4 weekly (newest of each of the last 4 ISO weeks) ∪ 3 monthly (Apr 30, Mar 31, Feb 28).
    expect(kept.slice(0, 7)).toEqual(['d119', 'd118', 'd117', 'd116', 'd115', 'd114', 'd113']);
    expect(kept).toContain('d119'); // newest, by every rule
    expect(decision.reasons.get('d119')).toEqual(['last', 'daily 2026-04-30', 'weekly 2026-W18', 'monthly 2026-04']);
    expect(kept).toContain('d89'); // 2026-03-31
    expect(kept).toContain('d58'); // 2026-02-28
    expect(decision.keep.length + decision.drop.length).toBe(120);
    expect(new Set([...kept, ...ids(decision.drop)]).size).toBe(120);
  });

  it('always keeps the newest snapshot under any valid policy', () => {
    const snapshots = at('2026-01-01T00:00:00Z', '2026-05-05T05:05:05Z', '2026-03-03T00:00:00Z');
    for (const policy of [{ keepLast: 1 }, { keepDaily: 1 }, { keepWeekly: 1 }, { keepMonthly: 1 }, { keepYearly: 1 }]) {
      expect(prune(snapshots, policy).keep[0].id).toBe('s1');
    }
  });

  it('rejects a policy that keeps nothing, negative or fractional counts and unknown time zones', () => {
    expect(() => validateRetention({})).toThrow(EngineConfigError);
    expect(() => prune(at('2026-01-01T00:00:00Z'), { keepLast: 0, keepDaily: 0 })).toThrow(/keeps nothing/);
    expect(() => validateRetention({ keepLast: -1 })).toThrow(/keepLast/);
    expect(() => validateRetention({ keepDaily: 1.5 })).toThrow(/keepDaily/);
    expect(() => validateRetention({ keepDaily: 1, timeZone: 'Mars/Olympus' })).toThrow(/time zone/);
    expect(() => prune([{ id: 'x', createdAt: 'yesterday' }], { keepLast: 1 })).toThrow(/invalid createdAt/);
  });

  it('keeps everything when there are fewer snapshots than the policy allows', () => {
    const decision = prune(at('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), { keepLast: 10 });
    expect(decision.drop).toEqual([]);
    expect(prune([], { keepLast: 1 })).toMatchObject({ keep: [], drop: [] });
  });
});
