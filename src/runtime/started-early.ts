/**
 * An async iterable whose first `next()` is called now, so its first item (a page: a request) is
 * on its way before anyone reads it; the rest is read as usual. A rejection of that first read
 * waits for the reader, and is never unhandled when nobody reads (the run stopped before).
 * Iterated once.
 */
export function startedEarly<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | undefined = it.next();
  first.catch(() => undefined);
  const iterator: AsyncIterator<T> = {
    next: () => {
      const p = first ?? it.next();
      first = undefined;
      return p;
    },
    return: (value?: unknown) => {
      first = undefined;
      return it.return ? it.return(value) : Promise.resolve({ done: true, value: undefined });
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
