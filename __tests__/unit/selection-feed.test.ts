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
