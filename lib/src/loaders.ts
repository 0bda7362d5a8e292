/** Orders rows to match the keys a DataLoader asked for; a missing row is `undefined`. */
export function byId<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | undefined)[] {
  const index = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => index.get(id));
}

/** Groups rows under the keys a DataLoader asked for, keeping the rows' order. */
export function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}
