import { describe, expect, it } from "vitest";
import type { ItemOutcome } from "../../src/bulk/types.ts";
import type { HttpResponse } from "../../src/http/client.ts";
import type { BulkPasses, PassOptions, RecordedOutcome } from "../../src/operations/instance-bulk.ts";
import { rolloutPlan } from "../../src/operations/rollout.ts";
import { waveOf } from "../../src/rollout/waves.ts";
import { makeContext } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";

/** The plan alone, on passes that succeed at once: what it sends, records and decides. */
function fakePasses() {
  const recorded: (RecordedOutcome & { kind?: string })[] = [];
  const sent: { items: string[]; kind: string }[] = [];
  const passes: BulkPasses = {
    signal: new AbortController().signal,
    record: (o, kind) => recorded.push({ ...o, ...(kind ? { kind } : {}) }),
    pass: async (items, opts: PassOptions = {}) => {
      const list = [...(items as string[])];
      sent.push({ items: list, kind: opts.kind ?? "send" });
      for (const name of list) {
        const o: ItemOutcome = { name, outcome: "succeeded", attempts: 1, durationMs: 1 };
        recorded.push({ ...o, ...(opts.wave?.(name) !== undefined ? { wave: opts.wave(name)! } : {}), kind: opts.kind ?? "send" });
        opts.onOutcome?.(o);
      }
      return { cancelled: false };
    },
  };
  return { passes, recorded, sent };
}

const names = Array.from({ length: 200 }, (_, i) => `n-${i}`);

describe("rolloutPlan", () => {
  it("halts on the upgraded share and rolls back only instances whose earlier version is known", async () => {
    const t = makeContext({ clock: new InstantClock() });
    const wave1 = names.filter((n) => waveOf(n, [3000, 10000]) === 1);
    const unknown = wave1[0]!;
    const previous = new Map(names.filter((n) => n !== unknown).map((n) => [n, "ver_old"]));
    const { passes, recorded, sent } = fakePasses();
    const result = await rolloutPlan(
      {
        settings: { waves: [3000, 10000], soakMs: 0, minUpgradedPercent: 100, rollbackOnHalt: true },
        dryRun: false,
        target: { id: "ver_new", label: "v2" },
        candidates: names,
        previous,
        describeVersion: (id) => id,
        readLogs: async () => ({ maxTimestamp: new Date().toISOString(), logs: [] }),
        // Nobody moved.
        listing: async function* () {
          yield names.map((slug) => ({ slug, versionId: "ver_old" }));
        },
        setDesired: async () => ({ status: 201 }) as unknown as HttpResponse,
        failureOf: () => ({ kind: "failed", reason: "x" }),
      },
      t.ctx,
    )(passes);
    expect(sent).toEqual([
      { items: wave1, kind: "send" },
      { items: wave1.slice(1), kind: "rollback" },
    ]);
    expect(recorded.find((r) => r.name === unknown && r.kind === "rollback")).toMatchObject({ outcome: "failed", reason: "rollback not sent: the version it ran before the run is unknown", wave: 1 });
    expect(result.failure).toBe(`The rollout halted after wave 1 (0 of ${wave1.length} updated instances (0%) run v2 < min-upgraded-percent 100); ${wave1.length - 1} of ${wave1.length} updated instances rolled back, 1 not (see the summary).`);
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ rollout: "rolled-back", "waves-done": "0", "rolled-back-count": String(wave1.length - 1) });
    expect(recorded.filter((r) => r.reason?.startsWith("not sent: the rollout halted after wave 1")).length).toBe(names.length - wave1.length);
  });
});
