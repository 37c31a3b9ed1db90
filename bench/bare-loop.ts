import { readFileSync } from "node:fs";
import { Agent, request } from "undici";

/**
 * The baseline: the same PUTs as set-desired-version, from a plain undici loop at the same
 * concurrency, with no retries, pool logic or reporting. Prints its elapsed milliseconds.
 */
const [url, machine, token, namesFile, concurrencyArg, versionId] = process.argv.slice(2) as [string, string, string, string, string, string];
const names = readFileSync(namesFile, "utf8").split("\n").filter(Boolean);
const agent = new Agent({ keepAliveTimeout: 10_000 });
const body = JSON.stringify({ targetMachineVersionId: versionId });
let next = 0;
let failed = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrencyArg) }, async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const res = await request(`${url}/machines/${machine}/i/${name}/v`, {
        method: "PUT",
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      await res.body.dump();
      if (res.statusCode !== 201) failed++;
    }
  }),
);
const elapsed = performance.now() - started;
await agent.close();
process.stdout.write(JSON.stringify({ elapsedMs: elapsed, failed }) + "\n");
