/**
 * At most `concurrency` subscription starts (authorization and current state, each a query to the
 * subgraphs) run at once; the others wait their turn in order. A burst then takes longer to start
 * instead of piling up requests at the subgraphs until they time out.
 */
export class StartGate {
  readonly #concurrency: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
