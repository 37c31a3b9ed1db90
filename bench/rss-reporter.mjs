// Preloaded into the action's process by the bench: prints its peak RSS when it exits.
import process from "node:process";

process.on("exit", () => {
  process.stderr.write(`\nBENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
