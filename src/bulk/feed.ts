/**
 * Where the scheduler takes its items from: a list known up front, or an async source read as
 * the run goes (a listing page by page) with a bounded read-ahead, so the first item can start
 * as soon as the source yields it and memory stays flat whatever the source's length.
 */
export class ItemFeed {
  private readonly list: readonly string[] | undefined;
  private readonly source: AsyncIterator<string> | undefined;
  private readonly readAhead: number;
  private readonly onReady: () => void;
  private readonly onError: (err: unknown) => void;
  private readonly onLate: (item: string) => void;
  private buffer: string[] = [];
  private head = 0;
  /** Items taken from a list, or read from the source. */
  private count = 0;
  private ended = false;
  private stopped = false;
  private reading = false;

  /**
   * `onReady`: items are at hand, or the source has ended or settled after a stop. `onLate`: an
   * item the source delivered after `stop()` (it was on its way), so that it too is accounted for.
   */
  constructor(
    items: readonly string[] | AsyncIterable<string>,
    opts: { readAhead: number; onReady: () => void; onError: (err: unknown) => void; onLate: (item: string) => void },
  ) {
    this.readAhead = Math.max(1, opts.readAhead);
    this.onReady = opts.onReady;
    this.onError = opts.onError;
    this.onLate = opts.onLate;
    if (isList(items)) {
      this.list = items;
      this.ended = true;
    } else {
      this.source = items[Symbol.asyncIterator]();
    }
  }

  /** The number of items, once known (a list at once, a source when it has ended). */
  get total(): number | undefined {
    if (this.list) return this.list.length;
    return this.ended ? this.count : undefined;
  }

  /** Items read so far (a list: all of them). */
  get seen(): number {
    return this.list ? this.list.length : this.count;
  }

  /** No item is left and none will come (nor is one on its way). */
  get exhausted(): boolean {
    if (this.list) return this.count >= this.list.length || this.stopped;
    return (this.ended || this.stopped) && this.head >= this.buffer.length && !this.reading;
  }

  /** A read from the source is under way. */
  get busy(): boolean {
    return this.reading;
  }

  /**
   * Slots of the scheduler's `limit` a read under way takes: a source's read (a listing page) is
   * a request too, so it counts, above a limit of one (a single slot never waits on a read-ahead).
   */
  slotsTaken(limit: number): number {
    return this.reading && limit > 1 ? 1 : 0;
  }

  /**
   * Starts reading from the source if the read-ahead has room and `inFlight` (the scheduler's
   * attempts) leaves a slot of `limit` for the read: a read is a request to the same server, so
   * it waits for a slot like any attempt (and goes before the next attempt when one frees). At a
   * limit of one it goes alongside the attempt: a source may wait on an attempt to yield more.
   */
  fillIfRoom(inFlight: number, limit: number): void {
    if (limit === 1 || inFlight < limit) this.fill();
  }

  /** The next item if one is at hand; undefined when none is (yet: see `exhausted`). */
  take(): string | undefined {
    if (this.stopped) return undefined;
    if (this.list) return this.count < this.list.length ? this.list[this.count++] : undefined;
    if (this.head >= this.buffer.length) return undefined;
    const item = this.buffer[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Stops reading; returns the items at hand that were never taken (to be accounted for). */
  stop(): string[] {
    if (this.stopped) return [];
    this.stopped = true;
    const left = this.list ? this.list.slice(this.count) : this.buffer.slice(this.head);
    if (this.list) this.count = this.list.length;
    this.buffer = [];
    this.head = 0;
    // Ends the source (a listing generator stops asking for pages); its answer is not awaited.
    if (this.source && !this.ended) this.source.return?.().catch(() => undefined);
    return left;
  }

  /** Reads from the source until the read-ahead is full; one read loop at a time. */
  private fill(): void {
    if (!this.source || this.reading || this.ended || this.stopped) return;
    if (this.buffer.length - this.head >= this.readAhead) return;
    this.reading = true;
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    const source = this.source!;
    try {
      while (!this.stopped && this.buffer.length - this.head < this.readAhead) {
        const r = await source.next();
        if (this.stopped) {
          if (!r.done) this.onLate(r.value);
          break;
        }
        if (r.done) {
          this.ended = true;
          break;
        }
        this.buffer.push(r.value);
        this.count++;
        // The first item of an empty buffer can start now.
        if (this.buffer.length - this.head === 1) this.onReady();
      }
    } catch (err) {
      this.ended = true;
      this.reading = false;
      if (this.stopped) this.onReady();
      else this.onError(err);
      return;
    }
    this.reading = false;
    this.onReady();
  }
}

function isList(items: readonly string[] | AsyncIterable<string>): items is readonly string[] {
  return Array.isArray(items);
}
