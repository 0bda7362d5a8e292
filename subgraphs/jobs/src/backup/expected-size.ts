import type { ExpectedSize } from '@listbackup/catalogue/sdk';
import type { ProgressUpdate } from '../worker/registry.ts';

/**
 * A backup's item total from what its connector says per resource (`FetchContext.expect`): each
 * resource's figure while it is read, the count it yielded once read. Known only when every
 * resource has one, so until the later resources say theirs the total stays what it was (the
 * previous snapshot's size, or none). A resource listed incrementally has no usable figure: the
 * run also keeps its unchanged items from the last snapshot, which the connector does not count.
 */
export class SourceSize {
  /** Per resource: its figure so far (undefined: none yet; null: none can be had). */
  readonly #figures = new Map<string, { items: number; estimated: boolean } | null | undefined>();

  constructor(resources: readonly string[]) {
    for (const resource of resources) this.#figures.set(resource, undefined);
  }

  /** The resource is listed incrementally this time. */
  unknowable(resource: string): void {
    this.#figures.set(resource, null);
  }

  /** The connector's latest figure for a resource being read; the progress to report, once the total is known. */
  expect(resource: string, size: ExpectedSize): ProgressUpdate | undefined {
    if (this.#figures.get(resource) === null || size.items === undefined) return undefined;
    this.#figures.set(resource, { items: size.items, estimated: size.estimated === true });
    return this.#total();
  }

  /** A resource has been read in full, yielding `items`. */
  finished(resource: string, items: number): ProgressUpdate | undefined {
    if (this.#figures.get(resource) === null) return undefined;
    this.#figures.set(resource, { items, estimated: false });
    return this.#total();
  }

  #total(): ProgressUpdate | undefined {
    let items = 0;
    let estimated = false;
    for (const figure of this.#figures.values()) {
      if (!figure) return undefined;
      items += figure.items;
      estimated ||= figure.estimated;
    }
    return { itemsTotal: items, totalsEstimated: estimated };
  }
}
