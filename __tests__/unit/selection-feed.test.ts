import { describe, expect, it } from "vitest";
import { selectionOf } from "../../src/operations/instance-selection.ts";
import { SelectionFeed } from "../../src/operations/selection-feed.ts";
import type { StateBackedApi } from "../../src/statebacked/api.ts";

// A names list needs no request: any call to the API is a failure of the test.
const noApi = new Proxy({}, { get: () => () => { throw new Error("no request expected"); } }) as unknown as StateBackedApi;

describe("SelectionFeed.list", () => {
  it("hands a names list over as plain names and holds none of them open", () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `instance-${i}`);
    const recorded: { name: string; outcome: string }[] = [];
    const feed = new SelectionFeed(selectionOf(noApi, "m", { kind: "list", names: [...names, "Bad Name!"] }, { shard: undefined }), (o) => recorded.push(o));
    const list = feed.list();
    expect(list).toEqual(names);
    expect(feed.open.size).toBe(0);
    expect(recorded).toEqual([expect.objectContaining({ outcome: "failed" })]);
  });
});

describe("Selection.startFirstPage", () => {
  /** A listing of `pages` pages of two instances each, all on the target already; counts the pages asked for. */
  function listingApi(pages: number) {
    const asked: number[] = [];
    const onTarget = { id: "ver_target", createdAt: "2026-01-01T00:00:00Z", clientInfo: "v2" };
    const api = {
      async *listInstances() {
        for (let p = 0; p < pages; p++) {
          asked.push(p);
          await Promise.resolve();
          yield [0, 1].map((i) => ({ slug: `p${p}-${i}`, createdAt: "2026-01-01T00:00:00Z", status: "running", machineVersion: onTarget }));
        }
      },
    } as unknown as StateBackedApi;
    return { api, asked };
  }
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };

  it("asks for one page of the listing and decides nothing until the selection is read", async () => {
    const { api, asked } = listingApi(5);
    const recorded: unknown[] = [];
    const selection = selectionOf(api, "m", { kind: "all" }, { shard: undefined, targetId: "ver_target" });
    const feed = new SelectionFeed(selection, (o) => recorded.push(o));
    expect(selection.startFirstPage()).toBe(true);
    await settle();
    // One page on its way (here: in), nothing more asked for, nothing recorded: a failed machine check leaves no trace.
    expect(asked).toEqual([0]);
    expect(recorded).toEqual([]);
    // Read, it goes on from that page: every instance once, each page asked for once.
    const sent: string[] = [];
    for await (const name of feed.stream()) sent.push(name);
    expect(sent).toEqual([]);
    expect(asked).toEqual([0, 1, 2, 3, 4]);
    expect(recorded).toHaveLength(10);
  });

  it("holds a failed first page for the reader, and is never an unhandled rejection when nobody reads", async () => {
    const failing = {
      // eslint-disable-next-line require-yield
      async *listInstances() {
        throw new Error("listing refused");
      },
    } as unknown as StateBackedApi;
    const unread = selectionOf(failing, "m", { kind: "all" }, { shard: undefined });
    expect(unread.startFirstPage()).toBe(true);
    await settle(); // vitest fails the run on an unhandled rejection
    const read = selectionOf(failing, "m", { kind: "all" }, { shard: undefined });
    read.startFirstPage();
    await settle();
    await expect((async () => {
      for await (const _ of read) void _;
    })()).rejects.toThrow("listing refused");
  });

  it("starts nothing for a names list read without a request", () => {
    expect(selectionOf(noApi, "m", { kind: "list", names: ["a"] }, { shard: undefined }).startFirstPage()).toBe(false);
  });
});
