/**
 * An incremental cursor over a timestamp the platform filters inclusively (`since`, `created[gte]`):
 * the newest timestamp seen plus the ids seen at exactly that timestamp, so the next run can skip
 * those and still catch anything else that shares the second.
 */
export type HighWaterState<T extends string | number> = {
  at: T;
  ids: string[];
};

export class HighWaterMark<T extends string | number> {
  readonly #previous: HighWaterState<T> | undefined;
  #at: T | undefined;
  #ids = new Set<string>();

  constructor(previous?: HighWaterState<T>) {
    this.#previous = previous;
    this.#at = previous?.at;
    this.#ids = new Set(previous?.ids ?? []);
  }

  /** The timestamp to ask the platform for (inclusive), if any. */
  get since(): T | undefined {
    return this.#previous?.at;
  }

  /** Whether the previous run already handed over this version of the item. */
  seenBefore(at: T, id: string): boolean {
    if (!this.#previous) return false;
    return at < this.#previous.at || (at === this.#previous.at && this.#previous.ids.includes(id));
  }

  see(at: T, id: string): void {
    if (this.#at === undefined || at > this.#at) {
      this.#at = at;
      this.#ids = new Set([id]);
    } else if (at === this.#at) {
      this.#ids.add(id);
    }
  }

  state(): HighWaterState<T> | undefined {
    return this.#at === undefined ? undefined : { at: this.#at, ids: [...this.#ids] };
  }

  /** Reads a state out of an untrusted cursor value. */
  static read<T extends string | number>(value: unknown, type: 'string' | 'number'): HighWaterState<T> | undefined {
    if (!value || typeof value !== 'object') return undefined;
    const { at, ids } = value as { at?: unknown; ids?: unknown };
    if (typeof at !== type || !Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return undefined;
    return { at: at as T, ids: ids as string[] };
  }
}
