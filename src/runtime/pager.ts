import { formatDuration } from "./duration.ts";
import { ExpectedError } from "./errors.ts";

/** Empty pages that still carry a next cursor, in a row, before a listing is refused. */
export const MAX_EMPTY_PAGES_IN_A_ROW = 5;
/** Progress lines while listing: at most one per this many ms. */
export const LISTING_PROGRESS_MS = 5000;

/**
 * Keeps a cursor-paged listing finite whatever the server answers: a cursor handed out before,
 * or more than a few empty pages in a row that still say "there is more", is an error that says
 * so (a server that pages forever would otherwise be listed forever), and a line every few
 * seconds says how far the listing is. One per listing; reusable by any paged client.
 */
export class PageGuard {
  private readonly step: string;
  private readonly now: () => number;
  private readonly progress: ((line: string) => void) | undefined;
  private readonly seen = new Set<string>();
  private readonly started: number;
  private lastLine: number;
  private emptyInARow = 0;
  pages = 0;
  items = 0;

  constructor(step: string, opts: { now: () => number; progress?: (line: string) => void }) {
    this.step = step;
    this.now = opts.now;
    this.progress = opts.progress;
    this.started = opts.now();
    this.lastLine = this.started;
  }

  /** After each page: its item count and next cursor. Throws when the listing must stop. */
  page(itemCount: number, cursor: string | undefined): void {
    this.pages++;
    this.items += itemCount;
    if (cursor !== undefined) {
      if (this.seen.has(cursor)) {
        throw new PagingError(`${this.step}: the API handed out a page cursor it had handed out before (page ${this.pages}); stopping instead of listing in a loop`);
      }
      this.seen.add(cursor);
      this.emptyInARow = itemCount === 0 ? this.emptyInARow + 1 : 0;
      if (this.emptyInARow > MAX_EMPTY_PAGES_IN_A_ROW) {
        throw new PagingError(
          `${this.step}: the API answered ${this.emptyInARow} empty pages in a row, each with a next cursor (page ${this.pages}, ${this.items} items so far); stopping instead of paging forever`,
        );
      }
    }
    const now = this.now();
    if (this.progress && now - this.lastLine >= LISTING_PROGRESS_MS) {
      this.lastLine = now;
      this.progress(`${this.step}: ${this.items} so far (${this.pages} pages, ${formatDuration(now - this.started)})`);
    }
  }
}

export class PagingError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = "PagingError";
  }
}
