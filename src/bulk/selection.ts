/**
 * Which instances a bulk run acts on: parsing the name lists the workflow gives, checking the
 * names, dropping duplicates, and sharding a selection across a matrix of jobs. Pure functions.
 */

/** What an instance name may look like (the State Backed API's rule). */
/** The rule State Backed applies to machine, instance and index names. */
export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
export const MAX_INSTANCE_NAME_LENGTH = 128;
/** The most jobs a selection may be split into. */
export const MAX_SHARD_COUNT = 1000;

export interface Shard {
  /** 1-based: the first shard is 1. */
  index: number;
  count: number;
}

export interface InvalidName {
  name: string;
  reason: string;
}

export interface Selection {
  /** Valid names of this shard, de-duplicated, in the order first seen. */
  valid: string[];
  /** Names of this shard that are not valid instance names (each reported once). */
  invalid: InvalidName[];
  /** How many repeated names of this shard were dropped. */
  duplicates: number;
}

/** Names separated by newlines or commas (an input such as `instances`); trimmed, blanks dropped. */
export function parseNameList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\r\n,]/)) {
    const name = part.trim();
    if (name !== "") out.push(name);
  }
  return out;
}

/**
 * A names file: one name per line, trimmed; blank lines and whole-line comments (a line whose
 * first non-blank character is `#`) are ignored. A `#` later in a line is part of the name (and
 * makes it invalid), so nothing is silently cut off.
 */
export function parseNameFile(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    const name = line.trim();
    if (name === "" || name.startsWith("#")) continue;
    out.push(name);
  }
  return out;
}

/** Why `name` is not a valid instance name, or undefined when it is one. */
export function invalidNameReason(name: string): string | undefined {
  if (NAME_PATTERN.test(name)) return undefined;
  if (name.length === 0) return "empty name";
  const problems: string[] = [];
  if (name.length > MAX_INSTANCE_NAME_LENGTH) {
    problems.push(`too long: ${name.length} characters (at most ${MAX_INSTANCE_NAME_LENGTH})`);
  }
  const bad = new Set<string>();
  for (const ch of name) if (!/^[a-zA-Z0-9_-]$/.test(ch)) bad.add(ch);
  if (bad.size > 0) {
    const shown = [...bad].map((c) => JSON.stringify(c)).join(", ");
    problems.push(`not allowed: ${shown} (only letters, digits, "_" and "-")`);
  }
  return problems.join("; ");
}

/**
 * Checks and de-duplicates names, keeping only those of `shard` when one is given. Sharding
 * applies to valid and invalid names alike, so a matrix of jobs reports every name exactly once.
 */
export function selectInstances(names: Iterable<string>, opts: { shard?: Shard } = {}): Selection {
  const { shard } = opts;
  const seen = new Set<string>();
  const valid: string[] = [];
  const invalid: InvalidName[] = [];
  let duplicates = 0;
  for (const name of names) {
    if (shard && !inShard(name, shard)) continue;
    if (seen.has(name)) {
      duplicates++;
      continue;
    }
    seen.add(name);
    const reason = invalidNameReason(name);
    if (reason === undefined) valid.push(name);
    else invalid.push({ name, reason });
  }
  return { valid, invalid, duplicates };
}

/** Parses a shard such as `2/8` (the second of eight). Throws an Error that says what is wrong. */
export function parseShard(value: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new Error(`shard must look like "index/count", e.g. "2/8"; got ${JSON.stringify(value)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARD_COUNT) {
    throw new Error(`shard count must be between 1 and ${MAX_SHARD_COUNT}; got ${JSON.stringify(value)}`);
  }
  if (index < 1 || index > count) {
    throw new Error(`shard index must be between 1 and the count (${count}); got ${JSON.stringify(value)}`);
  }
  return { index, count };
}

/**
 * Whether `name` belongs to `shard`: FNV-1a (32-bit) of the name's UTF-8 bytes, modulo the
 * count, equals index - 1. FNV-1a is fixed by its spec (offset basis 2166136261, prime
 * 16777619), so every job of a matrix, on any machine and any version of Node, agrees on it.
 */
export function inShard(name: string, shard: Shard): boolean {
  return fnv1a32(name) % shard.count === shard.index - 1;
}

const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`; an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
