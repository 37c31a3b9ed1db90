import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { signApiKeyToken } from "../src/statebacked/token.ts";
import { parseOutputFile } from "../__tests__/helpers/run-action.ts";
import { type FakeOptions, SCOPES_ALL, startFakeStateBacked } from "../__tests__/fakes/statebacked/server.ts";

/**
 * `npm run bench`: performance figures against the fake servers on loopback. Prints figures and
 * ratios to their targets; it asserts nothing (speed is measured, not tested). The action runs as
 * the runner runs it: the built dist/index.js in its own process.
 */
const root = resolve(import.meta.dirname, "..");
const DIST = process.env.BENCH_DIST ?? join(root, "dist/index.js");
const KEY = { keyId: "sbk_bench", secret: "sbsec_bench_secret", orgId: "org_bench", scopes: [...SCOPES_ALL] };
const work = mkdtempSync(join(tmpdir(), "bench-"));

interface ActionResult {
  wallMs: number;
  bulkMs: number;
  outputs: Record<string, string>;
  maxRssMb: number;
  rejectedOverCap: number;
  /** Mean time a request spent inside the fake (its latency as really served). */
  meanServiceMs: number;
  /** Seconds from the spawn: first request at the fake, first PUT, last answer, exit. */
  timeline: { firstRequest: number; firstPut: number; lastAnswer: number; exit: number };
}

/** A fake with machine "bench", n instances on v1, a migration to v2, and the names in a file. */
async function seededFake(n: number, fakeOpts: FakeOptions) {
  const fake = await startFakeStateBacked({ keys: [KEY], ...fakeOpts });
  fake.recordRequests = false;
  fake.addMachine("bench");
  const v1 = fake.addVersion("bench", "v1");
  const v2 = fake.addVersion("bench", "v2", { current: true });
  fake.addMigration("bench", v1.id, v2.id);
  const names = Array.from({ length: n }, (_, i) => `instance-${i}`);
  fake.addInstances("bench", names, v1.id);
  const namesFile = join(work, `names-${n}.txt`);
  writeFileSync(namesFile, names.join("\n"));
  return { fake, v2, namesFile };
}

async function benchSetDesired(n: number, fakeOpts: FakeOptions, inputs: Record<string, string> = {}, extraNodeArgs: string[] = []): Promise<ActionResult> {
  const { fake, v2, namesFile } = await seededFake(n, fakeOpts);
  const outFile = join(work, `out-${Date.now()}.txt`);
  writeFileSync(outFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    // BENCH_CHILD_ENV="NAME=value,…": extra variables for the action (e.g. NODE_OPTIONS, to compare).
    ...Object.fromEntries((process.env.BENCH_CHILD_ENV ?? "").split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
    GITHUB_OUTPUT: outFile,
    RUNNER_TEMP: work,
    GITHUB_WORKSPACE: work,
    "INPUT_OPERATION": "set-desired-version",
    "INPUT_API-URL": fake.url,
    "INPUT_API-KEY-ID": KEY.keyId,
    "INPUT_API-KEY-SECRET": KEY.secret,
    INPUT_MACHINE: "bench",
    "INPUT_TO-VERSION": v2.id,
  };
  // The names file, unless the scenario selects all instances (the listing, read as the run goes).
  if (inputs["all-instances"] !== "true") env["INPUT_INSTANCES-FILE"] = namesFile;
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  // When things happen, seen at the fake (performance.now() of this process, like `started`).
  const seen = { firstRequest: Infinity, firstPut: Infinity, lastListing: 0, lastAnswer: 0, pages: 0 };
  const first: string[] = [];
  fake.observe = (x) => {
    if (first.length < 6) first.push(`${x.method} ${x.path} ${((x.arrivedAt - started) / 1000).toFixed(3)}-${((x.answeredAt - started) / 1000).toFixed(3)}`);
    seen.firstRequest = Math.min(seen.firstRequest, x.arrivedAt);
    if (x.method === "PUT") seen.firstPut = Math.min(seen.firstPut, x.arrivedAt);
    if (x.method === "GET" && x.path.endsWith("/i")) {
      seen.lastListing = Math.max(seen.lastListing, x.answeredAt);
      seen.pages++;
    }
    seen.lastAnswer = Math.max(seen.lastAnswer, x.answeredAt);
  };
  const started = performance.now();
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean), ...extraNodeArgs];
  const child = spawn(process.execPath, [...nodeArgs, "--import", join(root, "bench/rss-reporter.mjs"), DIST], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const stamped: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    const at = ((performance.now() - started) / 1000).toFixed(3);
    for (const line of d.split("\n")) if (line && !line.startsWith("::")) stamped.push(`${at} ${line.slice(0, 100)}`);
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  const wallMs = performance.now() - started;
  const rejectedOverCap = fake.rejectedOverCap;
  const meanServiceMs = fake.serviceMsTotal / Math.max(1, fake.answered);
  await fake.close();
  if (process.env.BENCH_DEBUG) {
    const t = (x: number) => `${((x - started) / 1000).toFixed(3)} s`;
    console.log(`timeline: first request ${t(seen.firstRequest)}, first PUT ${t(seen.firstPut)}, listing done ${t(seen.lastListing)} (${seen.pages} pages), last answer ${t(seen.lastAnswer)}, exit ${t(started + wallMs)}\n  ${first.join("\n  ")}`);
    console.log(stderr.split("\n").filter((l) => l.startsWith("PEAK")).join("\n"));
    writeFileSync(join(work, "action-stdout.txt"), stdout);
    writeFileSync(join(work, "action-lines.txt"), stamped.join("\n"));
    console.log(`(action stdout in ${join(work, "action-stdout.txt")})`);
  }
  if (code !== 0) throw new Error(`the action failed (exit ${code}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
  const bulk = /updated, .* in ([\d.]+) s\./.exec(stdout);
  const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr);
  return {
    wallMs,
    bulkMs: bulk ? Number(bulk[1]) * 1000 : Number.NaN,
    outputs: parseOutputFile(readFileSync(outFile, "utf8")),
    maxRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
    rejectedOverCap,
    meanServiceMs,
    timeline: { firstRequest: (seen.firstRequest - started) / 1000, firstPut: (seen.firstPut - started) / 1000, lastAnswer: (seen.lastAnswer - started) / 1000, exit: wallMs / 1000 },
  };
}

async function bareLoop(n: number, concurrency: number, fakeOpts: FakeOptions = {}): Promise<{ elapsedMs: number; failed: number }> {
  const { fake, v2, namesFile } = await seededFake(n, fakeOpts);
  const token = signApiKeyToken(KEY, { sub: "bench" }, Math.floor(Date.now() / 1000));
  const child = spawn(process.execPath, [join(root, "bench/bare-loop.ts"), fake.url, "bench", token, namesFile, String(concurrency), v2.id], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  await new Promise((r) => child.on("close", r));
  await fake.close();
  return JSON.parse(out) as { elapsedMs: number; failed: number };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const lines: string[] = [];
const say = (s: string) => {
  lines.push(s);
  console.log(s);
};

say("# Benchmarks (loopback fakes; the action runs as dist/index.js in its own process)\n");

// `npm run bench -- 2 4` runs only those scenarios.
const only = new Set(process.argv.slice(2).map(Number));
const want = (n: number) => only.size === 0 || only.has(n);

if (want(1)) {
  const n = 10_000;
  const ideal = (n * 20) / 64;
  // Three runs, median reported: on a 2-core machine the fake and the action share the CPU, and
  // single runs vary by a few percent.
  const runs: ActionResult[] = [];
  for (let i = 0; i < 3; i++) runs.push(await benchSetDesired(n, { latencyMs: 20, maxInFlight: 64 }, { concurrency: "64" }));
  runs.sort((a, b) => a.wallMs - b.wallMs);
  const r = runs[1]!;
  say(`1. ${n} instances, 20 ms latency, server cap 64 in flight, concurrency 64 (median of 3 runs)`);
  say(`   wall ${fmt(r.wallMs)} (bulk phase ${fmt(r.bulkMs)}); limit ${n} x 20 ms / 64 = ${fmt(ideal)}`);
  say(`   ratio wall/limit ${(r.wallMs / ideal).toFixed(3)} (runs ${runs.map((x) => (x.wallMs / ideal).toFixed(3)).join(", ")}; bulk phase ${(r.bulkMs / ideal).toFixed(3)}); target <= 1.2; failed ${r.outputs["failed-count"]}, 429s ${r.rejectedOverCap}`);
  const bare = await bareLoop(n, 64, { latencyMs: 20, maxInFlight: 64 });
  const served = (n * r.meanServiceMs) / 64;
  say(`   the fake served each request in ${r.meanServiceMs.toFixed(2)} ms on average (20 ms asked): against ${n} x ${r.meanServiceMs.toFixed(2)} ms / 64 = ${fmt(served)} the ratio is ${(r.wallMs / served).toFixed(3)}`);
  say(`   for scale: a bare undici loop against the same fake: ${fmt(bare.elapsedMs)}, ratio ${(bare.elapsedMs / ideal).toFixed(3)}\n`);
}
if (want(2)) {
  const n = 10_000;
  const ideal = (n * 20) / 16;
  const r = await benchSetDesired(n, { latencyMs: 20, maxInFlight: 16 });
  say(`2. ${n} instances, 20 ms latency, server cap 16 (429 above it), concurrency left at its default (32)`);
  say(`   wall ${fmt(r.wallMs)} (bulk phase ${fmt(r.bulkMs)}); limit ${n} x 20 ms / 16 = ${fmt(ideal)}`);
  say(`   ratio wall/limit ${(r.wallMs / ideal).toFixed(3)} (bulk phase ${(r.bulkMs / ideal).toFixed(3)}); target <= 1.5; failed ${r.outputs["failed-count"]} (target 0), 429s answered ${r.rejectedOverCap}\n`);
}
if (want(3)) {
  const n = 20_000;
  const bare = await bareLoop(n, 32);
  const r = await benchSetDesired(n, {}, { concurrency: "32" });
  const actionRate = n / (r.bulkMs / 1000);
  const bareRate = n / (bare.elapsedMs / 1000);
  say(`3. ${n} instances, zero latency, concurrency 32`);
  say(`   action ${actionRate.toFixed(0)}/s (bulk phase ${fmt(r.bulkMs)}, wall ${fmt(r.wallMs)}); bare undici loop ${bareRate.toFixed(0)}/s (${fmt(bare.elapsedMs)})`);
  say(`   ratio action/bare ${(actionRate / bareRate).toFixed(3)}; target >= 0.8\n`);
}
if (want(4)) {
  const n = 100_000;
  const r = await benchSetDesired(n, {}, {});
  // The same run with V8's own young-generation growth (factor 2), which the action otherwise turns off.
  const v8Default = await benchSetDesired(n, {}, {}, ["--semi-space-growth-factor=2"]);
  say(`4. ${n} instances, zero latency, default concurrency`);
  say(`   peak RSS ${r.maxRssMb.toFixed(0)} MB; target <= 200 MB (wall ${fmt(r.wallMs)}, ${(n / (r.bulkMs / 1000)).toFixed(0)}/s, updated ${r.outputs["succeeded-count"]})`);
  say(`   with V8's default young generation: ${v8Default.maxRssMb.toFixed(0)} MB (wall ${fmt(v8Default.wallMs)}, ${(n / (v8Default.bulkMs / 1000)).toFixed(0)}/s)\n`);
}
if (want(5)) try {
  const { benchAppgate } = (await import("./appgate.ts")) as { benchAppgate: () => Promise<string[]> };
  for (const l of await benchAppgate()) say(l);
} catch (err) {
  say(`5. Appgate fleet: not measured (${(err as Error).message})`);
}
if (want(6)) {
  // The whole step as users feel it: start-up, machine check, the listing (100 instances a page,
  // each page a request at the same latency) and the PUTs, all through the server's cap.
  const n = 10_000;
  const ideal = (n * 50) / 64;
  const runs: ActionResult[] = [];
  for (let i = 0; i < Number(process.env.BENCH_RUNS ?? 3); i++) runs.push(await benchSetDesired(n, { latencyMs: 50, maxInFlight: 64, pageSize: 100 }, { "all-instances": "true", concurrency: "64" }));
  runs.sort((a, b) => a.wallMs - b.wallMs);
  const r = runs[Math.floor(runs.length / 2)]!;
  const t = r.timeline;
  const bare = await bareLoop(n, 64, { latencyMs: 50, maxInFlight: 64 });
  say(`6. ${n} instances with all-instances, 50 ms latency, server cap 64 in flight, concurrency 64, the whole step (100 instances a listing page; median of 3 runs)`);
  say(`   wall ${fmt(r.wallMs)}; limit ${n} x 50 ms / 64 = ${fmt(ideal)}`);
  say(`   ratio wall/limit ${(r.wallMs / ideal).toFixed(3)} (runs ${runs.map((x) => (x.wallMs / ideal).toFixed(3)).join(", ")}); target <= 1.08; updated ${r.outputs["succeeded-count"]}, failed ${r.outputs["failed-count"]}, 429s ${r.rejectedOverCap}`);
  say(`   where the time went: start-up to the first request ${t.firstRequest.toFixed(3)} s, then to the first PUT ${(t.firstPut - t.firstRequest).toFixed(3)} s, PUTs ${(t.lastAnswer - t.firstPut).toFixed(2)} s, last answer to exit ${(t.exit - t.lastAnswer).toFixed(3)} s`);
  say(`   the floor on this machine: the fake served each request in ${r.meanServiceMs.toFixed(2)} ms on average (50 ms asked); a bare undici loop of the same PUTs (names known, no listing, no start-up) takes ${fmt(bare.elapsedMs)}, ratio ${(bare.elapsedMs / ideal).toFixed(3)}; the whole step is ${(r.wallMs / bare.elapsedMs).toFixed(3)} x that loop, its PUTs ${((t.lastAnswer - t.firstPut) * 1000 / bare.elapsedMs).toFixed(3)} x\n`);
}
if (want(7)) {
  const n = 100_000;
  const ideal = (n * 50) / 64;
  const r = await benchSetDesired(n, { latencyMs: 50, maxInFlight: 64, pageSize: 100 }, { "all-instances": "true", concurrency: "64" });
  say(`7. ${n} instances with all-instances, 50 ms latency, server cap 64 in flight, concurrency 64, the whole step`);
  say(`   peak RSS ${r.maxRssMb.toFixed(0)} MB; target <= 200 MB; wall ${fmt(r.wallMs)}, limit ${fmt(ideal)}, ratio ${(r.wallMs / ideal).toFixed(3)}; updated ${r.outputs["succeeded-count"]}, failed ${r.outputs["failed-count"]}, 429s ${r.rejectedOverCap}\n`);
}
writeFileSync(join(work, "bench.txt"), lines.join("\n"));
