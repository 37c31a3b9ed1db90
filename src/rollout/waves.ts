import { createHash } from "node:crypto";

/**
 * Waves of a progressive rollout: the cumulative shares of the selection sent so far after each
 * wave (`1%, 10%, 50%, 100%`), and which wave an instance falls in. Pure functions.
 *
 * Shares are kept in hundredths of a percent (1% = 100, 100% = 10,000), so `0.5%` is exact and
 * no float comparison decides a membership.
 */

/** The most steps a rollout may have. */
export const MAX_WAVES = 10;
/** 100% in hundredths of a percent. */
export const WHOLE = 10_000;

/**
 * Parses `1%, 10%, 50%, 100%` into cumulative shares in hundredths of a percent. Each step is a
 * percentage with at most two decimals, above 0 and at most 100, each larger than the one
 * before. Throws an Error that says what is wrong.
 */
export function parseWaves(text: string): number[] {
  const parts = text.split(/[,\n]/).map((p) => p.trim());
  if (parts.every((p) => p === "")) throw new Error('name at least one step, e.g. "1%, 10%, 100%"');
  if (parts.some((p) => p === "")) throw new Error(`has an empty step in ${JSON.stringify(text)}; separate steps with single commas`);
  if (parts.length > MAX_WAVES) throw new Error(`has ${parts.length} steps; at most ${MAX_WAVES}`);
  const steps: number[] = [];
  for (const part of parts) {
    const m = /^(\d{1,3})(?:\.(\d{1,2}))?\s*%$/.exec(part);
    if (!m) throw new Error(`step ${JSON.stringify(part)} is not a percentage such as "10%" (at most two decimals, with the % sign)`);
    const value = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
    if (value <= 0 || value > WHOLE) throw new Error(`step ${JSON.stringify(part)} must be above 0% and at most 100%`);
    const previous = steps.at(-1);
    if (previous !== undefined && value <= previous) {
      throw new Error(`steps must increase: ${formatShare(value)} follows ${formatShare(previous)} (each step is the share sent so far)`);
    }
    steps.push(value);
  }
  return steps;
}

/** `1%`, `0.5%`, `12.25%` from hundredths of a percent. */
export function formatShare(hundredths: number): string {
  const whole = Math.floor(hundredths / 100);
  const frac = hundredths % 100;
  return frac === 0 ? `${whole}%` : `${whole}.${String(frac).padStart(2, "0").replace(/0$/, "")}%`;
}

/** The steps as the input reads: `1%, 10%, 100%`. */
export function formatWaves(steps: readonly number[]): string {
  return steps.map(formatShare).join(", ");
}

const encoder = new TextEncoder();

/**
 * Where `name` falls in 0 … 9,999 (hundredths of a percent): the first 48 bits of SHA-256 over
 * a fixed prefix and the name's UTF-8 bytes. It depends on nothing but the name: not on the
 * total, the listing order, or the `shard` hash (FNV-1a modulo the shard count, a different
 * function), so a shard's instances spread over the waves as the whole selection does.
 */
export function waveBucket(name: string): number {
  const digest = createHash("sha256").update(encoder.encode(`statebacked-release-action/wave\n${name}`)).digest();
  return digest.readUIntBE(0, 6) % WHOLE;
}

/**
 * The wave (1-based) `name` belongs to, or undefined when it lies beyond the last step (a
 * rollout whose waves end below 100%). Stable: a later run with larger waves keeps the earlier
 * members in the same or an earlier wave.
 */
export function waveOf(name: string, steps: readonly number[]): number | undefined {
  const bucket = waveBucket(name);
  for (let i = 0; i < steps.length; i++) if (bucket < steps[i]!) return i + 1;
  return undefined;
}
