import { describe, expect, it } from "vitest";
import {
  fnv1a32,
  inShard,
  invalidNameReason,
  parseNameFile,
  parseNameList,
  parseShard,
  selectInstances,
} from "../../src/bulk/selection.ts";

describe("parseNameList", () => {
  it("splits on newlines and commas, trims, drops blanks", () => {
    expect(parseNameList(" a, b ,\n c\r\n\n,,d ,")).toEqual(["a", "b", "c", "d"]);
  });

  it("returns nothing for blank input", () => {
    expect(parseNameList("  \n , \n")).toEqual([]);
  });
});

describe("parseNameFile", () => {
  it("takes one name per line and ignores blank lines and whole-line comments", () => {
    const text = "# instances to bump\nalpha\n\n   # indented comment\n  beta  \r\ngamma\n";
    expect(parseNameFile(text)).toEqual(["alpha", "beta", "gamma"]);
  });

  it("keeps commas and trailing # as part of the name (only whole-line comments)", () => {
    expect(parseNameFile("a,b\nc # note\n")).toEqual(["a,b", "c # note"]);
  });
});

describe("invalidNameReason", () => {
  it("accepts letters, digits, _ and - up to 128 characters", () => {
    expect(invalidNameReason("Abc_09-x")).toBeUndefined();
    expect(invalidNameReason("x".repeat(128))).toBeUndefined();
  });

  it("explains empty, too long and bad characters", () => {
    expect(invalidNameReason("")).toBe("empty name");
    expect(invalidNameReason("x".repeat(130))).toBe("too long: 130 characters (at most 128)");
    expect(invalidNameReason("a b/c/d")).toBe('not allowed: " ", "/" (only letters, digits, "_" and "-")');
    expect(invalidNameReason("é".repeat(129))).toContain("too long: 129 characters");
    expect(invalidNameReason("é".repeat(129))).toContain('"é"');
  });
});

describe("selectInstances", () => {
  it("keeps valid names in first-seen order, drops and counts duplicates, reports invalid ones once", () => {
    const s = selectInstances(["b", "a", "b", "bad name", "c", "a", "bad name", "a"]);
    expect(s.valid).toEqual(["b", "a", "c"]);
    expect(s.invalid).toEqual([{ name: "bad name", reason: expect.stringContaining('" "') }]);
    expect(s.duplicates).toBe(4);
  });

  it("with a shard keeps only that shard's names, valid and invalid alike", () => {
    // FNV-1a shards of 8: instance-1 5, user_42 2, a 5, foobar 1, bad!name 1, a.b 5
    const names = ["instance-1", "user_42", "a", "foobar", "bad!name", "a.b"];
    const s = selectInstances(names, { shard: { index: 5, count: 8 } });
    expect(s.valid).toEqual(["instance-1", "a"]);
    expect(s.invalid.map((x) => x.name)).toEqual(["a.b"]);
    const s1 = selectInstances(names, { shard: { index: 1, count: 8 } });
    expect(s1.valid).toEqual(["foobar"]);
    expect(s1.invalid.map((x) => x.name)).toEqual(["bad!name"]);
  });

  it("the shards of a matrix cover every name exactly once", () => {
    const names: string[] = [];
    for (let i = 0; i < 2000; i++) names.push(`inst-${i}`);
    names.push("bad name", "also/bad", "", "inst-7"); // invalid ones and a duplicate
    const count = 7;
    const seen = new Map<string, number>();
    let duplicates = 0;
    for (let index = 1; index <= count; index++) {
      const s = selectInstances(names, { shard: { index, count } });
      duplicates += s.duplicates;
      for (const n of [...s.valid, ...s.invalid.map((x) => x.name)]) seen.set(n, (seen.get(n) ?? 0) + 1);
      // every shard gets a fair part
      expect(s.valid.length).toBeGreaterThan(2000 / count / 2);
    }
    expect(new Set(seen.keys())).toEqual(new Set(names));
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
    expect(duplicates).toBe(1);
  });
});

describe("parseShard", () => {
  it("parses index/count", () => {
    expect(parseShard("2/8")).toEqual({ index: 2, count: 8 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, count: 1 });
    expect(parseShard("1000/1000")).toEqual({ index: 1000, count: 1000 });
  });

  it.each([
    ["", /index\/count/],
    ["2", /index\/count/],
    ["a/b", /index\/count/],
    ["-1/4", /index\/count/],
    ["1.5/4", /index\/count/],
    ["0/4", /index must be between 1 and the count \(4\)/],
    ["5/4", /index must be between 1 and the count \(4\)/],
    ["1/0", /count must be between 1 and 1000/],
    ["1/1001", /count must be between 1 and 1000/],
  ])("rejects %j with a clear message", (value, message) => {
    expect(() => parseShard(value)).toThrow(message);
  });
});

describe("inShard / fnv1a32", () => {
  it("is FNV-1a 32-bit over UTF-8 (published test vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fnv1a32("Ünïcode")).toBe(3119013579);
  });

  it("puts known names in known shards (stable across runs and machines)", () => {
    const shardOf = (name: string, count: number): number => {
      for (let index = 1; index <= count; index++) if (inShard(name, { index, count })) return index;
      throw new Error("in no shard");
    };
    expect(shardOf("instance-1", 8)).toBe(5);
    expect(shardOf("user_42", 8)).toBe(2);
    expect(shardOf("foobar", 8)).toBe(1);
    expect(shardOf("instance-1", 3)).toBe(3);
    expect(shardOf("user_42", 3)).toBe(1);
    expect(shardOf("anything", 1)).toBe(1);
  });
});
