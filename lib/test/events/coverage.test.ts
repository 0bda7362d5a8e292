/**
 * Every event type of the contract is published where docs/architecture.md says, and consumed by
 * each consumer the table names, read from the sources (TypeScript's parser, not text search):
 *
 * - published: a call of a publishing helper (`createEvent` or one of the wrappers that pass their
 *   type on to it) with the type's literal among its arguments, in the subgraph the table names;
 *   a publishing call whose type is not a literal must sit in one of those wrappers, so no
 *   publisher can hide behind a new one;
 * - consumed: the audit log keeps every durable type but those `entryContent` skips; any other
 *   consumer names the type in its own code (`readEvent(event, 'x')`, `case 'x'`, a list of types
 *   or a subject `lb.evt.*.x`), or the family prefix it filters on (`startsWith('job.')`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { EVENTS, EVENT_TYPES, type EventType } from '../../src/events/contract.ts';

const root = new URL('../../../', import.meta.url).pathname;

/** Functions that publish the type they are given (the wrappers hand it on to `createEvent`). */
const PUBLISHERS = new Set(['createEvent', 'recordEvent', 'connectionEvent', 'sourceEvent', 'jobEvent', 'recordJobEvent', 'recordJobFinished', '#finish']);

/** Where each consumer the table names lives. */
const CONSUMERS: Record<string, string[]> = {
  gateway: ['gateway/src', 'lib/src/access-facts.ts'],
  notifications: ['subgraphs/accounts/src/delivery/worker.ts', 'subgraphs/accounts/src/services/notification-fanout.ts'],
  billing: ['subgraphs/billing/src/events'],
  jobs: ['subgraphs/jobs/src/events', 'subgraphs/jobs/src/services/analytics-records.ts'],
  accounts: ['subgraphs/accounts/src/events', 'lib/src/events/account-plans.ts'],
  platforms: ['subgraphs/platforms/src/events', 'lib/src/events/account-plans.ts'],
  sources: ['subgraphs/sources/src/events', 'lib/src/events/account-plans.ts'],
};

/** Where each publisher the table names lives (the notifications worker runs in accounts). */
const PUBLISHING_SUBGRAPHS: Record<string, string> = {
  accounts: 'subgraphs/accounts/src',
  notifications: 'subgraphs/accounts/src',
  billing: 'subgraphs/billing/src',
  platforms: 'subgraphs/platforms/src',
  sources: 'subgraphs/sources/src',
  jobs: 'subgraphs/jobs/src',
};

function sourceFiles(path: string): string[] {
  const absolute = join(root, path);
  if (absolute.endsWith('.ts')) return [absolute];
  return readdirSync(absolute, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.split('/').includes('generated'))
    .map((file) => join(absolute, file));
}

const parsed = new Map<string, ts.SourceFile>();
function parse(file: string): ts.SourceFile {
  let source = parsed.get(file);
  if (!source) parsed.set(file, (source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)));
  return source;
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const calleeName = (call: ts.CallExpression) => (ts.isIdentifier(call.expression) ? call.expression.text : ts.isPropertyAccessExpression(call.expression) ? call.expression.name.text : null);
const declaredName = (node: ts.Node) => ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name && (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name)) ? node.name.text : null);

/** The string literals an expression can evaluate to (through conditionals and parentheses). */
function literalsOf(node: ts.Expression): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...literalsOf(node.whenTrue), ...literalsOf(node.whenFalse)];
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)) return literalsOf(node.expression);
  return [];
}

function enclosingFunctionName(node: ts.Node): string | null {
  for (let current = node.parent; current; current = current.parent) {
    const name = declaredName(current);
    if (name) return name;
  }
  return null;
}

const PRODUCT_CODE = ['subgraphs/accounts/src', 'subgraphs/billing/src', 'subgraphs/jobs/src', 'subgraphs/platforms/src', 'subgraphs/sources/src', 'gateway/src', 'lib/src'];

/** Each type with the files that publish it, and publishing calls with a computed type outside the known wrappers. */
function publications() {
  const byType = new Map<string, Set<string>>();
  const hidden: string[] = [];
  for (const file of PRODUCT_CODE.flatMap(sourceFiles)) {
    if (file.endsWith('lib/src/events/contract.ts')) continue;
    const source = parse(file);
    walk(source, (node) => {
      if (!ts.isCallExpression(node)) return;
      const name = calleeName(node);
      if (!name || !PUBLISHERS.has(name)) return;
      const types = node.arguments.flatMap(literalsOf).filter((value) => Object.hasOwn(EVENTS, value));
      for (const type of types) (byType.get(type) ?? byType.set(type, new Set()).get(type)!).add(relative(root, file));
      if (types.length === 0 && !PUBLISHERS.has(enclosingFunctionName(node) ?? '')) {
        hidden.push(`${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
      }
    });
  }
  return { byType, hidden };
}

/** What a consumer's code names: event types, family prefixes it filters on, exact subjects it subscribes to. */
function namedIn(paths: string[]): Set<string> {
  const named = new Set<string>();
  for (const file of paths.flatMap(sourceFiles)) {
    walk(parse(file), (node) => {
      if (!ts.isStringLiteral(node) && !ts.isNoSubstitutionTemplateLiteral(node)) return;
      const text = node.text;
      if (Object.hasOwn(EVENTS, text)) named.add(text);
      const subject = /^lb\.evt\.\*\.([a-z_]+\.[a-z_.]+)$/.exec(text);
      if (subject && Object.hasOwn(EVENTS, subject[1])) named.add(subject[1]);
      const call = node.parent;
      if (/^[a-z_]+\.$/.test(text) && ts.isCallExpression(call) && calleeName(call) === 'startsWith') {
        for (const type of EVENT_TYPES) if (type.startsWith(text)) named.add(type);
      }
    });
  }
  return named;
}

/** The types the audit log does not keep: those `entryContent` compares `event.type` with before it answers null. */
function auditSkips(): Set<string> {
  const skipped = new Set<string>();
  walk(parse(join(root, 'subgraphs/accounts/src/services/audit-log.ts')), (node) => {
    if (!ts.isFunctionDeclaration(node) || node.name?.text !== 'entryContent') return;
    walk(node, (inner) => {
      if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.EqualsEqualsEqualsToken && inner.left.getText() === 'event.type') {
        for (const value of literalsOf(inner.right)) skipped.add(value);
      }
    });
  });
  return skipped;
}

interface Row {
  type: EventType;
  publishedBy: string;
  consumers: string[];
}

function documentedRows(): Row[] {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Event types'));
  return [...table.matchAll(/^\| `([a-z_.]+)` \| ([^|]+) \| ([^|]+) \|/gm)].map((match) => ({
    type: match[1] as EventType,
    publishedBy: /^[a-z]+/.exec(match[2].trim())![0],
    consumers: match[3]
      .replace(/\([^)]*\)/g, '')
      .split(/,| and /)
      .map((name) => name.trim())
      .filter(Boolean),
  }));
}

describe('every event type of the contract', () => {
  const rows = documentedRows();
  const { byType, hidden } = publications();

  it('has a row in docs/architecture.md, and every row is a type of the contract', () => {
    expect(rows.map((row) => row.type).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('is published, by the subgraph the table names, and no publisher computes its type out of sight', () => {
    expect(hidden).toEqual([]);
    const unpublished = EVENT_TYPES.filter((type) => !byType.has(type));
    expect(unpublished).toEqual([]);
    const elsewhere = rows.filter((row) => {
      const home = PUBLISHING_SUBGRAPHS[row.publishedBy];
      return !home || ![...byType.get(row.type)!].some((file) => file.startsWith(home));
    });
    expect(elsewhere.map((row) => `${row.type}: the table says ${row.publishedBy}, published in ${[...(byType.get(row.type) ?? [])].join(', ')}`)).toEqual([]);
  });

  it('is consumed by each consumer the table names, and by someone', () => {
    const skipped = auditSkips();
    expect([...skipped].sort()).toEqual(['job.progress', 'notification.created']);
    const named = Object.fromEntries(Object.entries(CONSUMERS).map(([consumer, paths]) => [consumer, namedIn(paths)]));
    const consumes = (consumer: string, type: EventType) => (consumer === 'audit' ? !skipped.has(type) && !EVENTS[type].ephemeral : (named[consumer]?.has(type) ?? false));

    const wrong = rows.flatMap((row) => row.consumers.filter((consumer) => !consumes(consumer, row.type)).map((consumer) => `${row.type}: ${consumer}`));
    expect(wrong).toEqual([]);
    // The audit log is named exactly where it keeps the type.
    expect(rows.filter((row) => row.consumers.includes('audit') !== consumes('audit', row.type)).map((row) => row.type)).toEqual([]);
    const unconsumed = EVENT_TYPES.filter((type) => !['audit', ...Object.keys(CONSUMERS)].some((consumer) => consumes(consumer, type)));
    expect(unconsumed).toEqual([]);
  });
});
