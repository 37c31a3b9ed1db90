import { describe, expect, it } from "vitest";
import { RunReport } from "../../src/report/run-report.ts";
import { causeGroups, collapsed, foldedTable, mermaidBars, mermaidPie } from "../../src/report/sections.ts";
import { SUMMARY_LIMIT_BYTES, capSummary } from "../../src/report/summary-cap.ts";
import { renderSummary } from "../../src/report/summary.ts";
import { count, escapeInline, verdictMarkdown, versionText } from "../../src/report/verdict.ts";

describe("verdict line", () => {
  it("is the first line: icon and one sentence, then what to do", () => {
    expect(verdictMarkdown({ level: "ok", sentence: "10,000 instances now desire **v1.1.0**" })).toBe("### ✅ 10,000 instances now desire **v1.1.0**");
    expect(verdictMarkdown({ level: "fail", sentence: "Stopped:\nno key", fix: "add the key" })).toBe("### ❌ Stopped: no key\n\n**What to do:** add the key");
    expect(verdictMarkdown({ level: "warn", sentence: "x" })).toBe("### ⚠️ x");
  });

  it("puts the label beside the id, and escapes what a server or a user wrote", () => {
    expect(versionText("ver_abc", "v1.1.0")).toBe("**v1.1.0** (`ver_abc`)");
    expect(versionText("ver_abc")).toBe("`ver_abc`");
    expect(versionText("ver_abc", "")).toBe("`ver_abc`");
    expect(escapeInline("<img src=x> *bold* [link](u)")).toBe("&lt;img src=x&gt; \\*bold\\* \\[link\\](u)");
    expect(count(10000)).toBe("10,000");
    expect([0, 999, 1000, 100_000, 1_234_567, -4321].map(count)).toEqual(["0", "999", "1,000", "100,000", "1,234,567", "-4,321"]);
  });
});

describe("renderSummary", () => {
  it("starts with the operation's verdict and keeps its blocks in order", () => {
    const r = new RunReport();
    r.addSummary("#### Details");
    r.setVerdict({ level: "ok", sentence: "Done" });
    expect(renderSummary(r)).toBe("### ✅ Done\n\n#### Details");
  });

  it("a failure without a verdict of its own gets a ❌ line; a long one is shown in full below", () => {
    const short = new RunReport();
    short.fail("the machine 'x' does not exist");
    expect(renderSummary(short)).toBe("### ❌ Failed: the machine 'x' does not exist");
    const long = new RunReport();
    long.addSummary("#### Facts");
    long.fail("y".repeat(300));
    expect(renderSummary(long)).toBe(`### ❌ The step failed\n\n> [!CAUTION]\n> ${"y".repeat(300)}\n\n#### Facts`);
  });

  it("shows the error message under a failing verdict that does not already say it", () => {
    const r = new RunReport();
    r.setVerdict({ level: "fail", sentence: "Publishing v1 did not finish", fix: "Check the key." });
    r.fail("HTTP 401");
    expect(renderSummary(r)).toBe("### ❌ Publishing v1 did not finish\n\n**What to do:** Check the key.\n\n**Error:** HTTP 401");
    const said = new RunReport();
    said.setVerdict({ level: "fail", sentence: "Not started", fix: "Input 'x': bad" });
    said.fail("Input 'x': bad");
    expect(renderSummary(said)).not.toContain("**Error:**");
  });

  it("a success verdict does not hide a failure", () => {
    const r = new RunReport();
    r.setVerdict({ level: "ok", sentence: "Done" });
    r.fail("Cancelled (SIGTERM)");
    expect(renderSummary(r)).toMatch(/^### ❌ Failed: Cancelled \(SIGTERM\)/);
  });

  it("is empty when there is nothing to say", () => {
    expect(renderSummary(new RunReport())).toBe("");
  });
});

describe("sections", () => {
  it("groups causes largest first, each once, with its fix and its names folded away", () => {
    const md = causeGroups("Failures by cause", [
      { cause: "HTTP 404", count: 1, sample: ["ghost"] },
      { cause: "HTTP 400 no-migration-path", count: 30, fix: "publish a migration", sample: ["a", "b"], example: "no path" },
    ]);
    expect(md).toBe(
      "#### Failures by cause\n\n" +
        "* **30 × HTTP 400 no-migration-path**: publish a migration\n  <details><summary>first 2 names</summary>\n\n  `a`, `b`, and 28 more (see the report file)\n\n  Example: no path\n\n  </details>\n" +
        "* **1 × HTTP 404**\n  <details><summary>name</summary>\n\n  `ghost`\n\n  </details>",
    );
  });

  it("counts the causes it leaves out", () => {
    const groups = Array.from({ length: 5 }, (_, i) => ({ cause: `c${i}`, count: 10 - i, sample: [] }));
    expect(causeGroups("F", groups, 3)).toContain("_…and 2 more causes (13 items; see the report file)._");
    expect(causeGroups("F", [])).toBe("");
  });

  it("folds a table past ten rows, and never lets a name open HTML", () => {
    const rows = Array.from({ length: 11 }, (_, i) => [`n${i}`]);
    expect(foldedTable("Deleted", ["Instance"], rows)).toMatch(/^<details><summary>Deleted \(11\)<\/summary>\n\n\| Instance \|/);
    expect(foldedTable("Deleted", ["Instance"], rows.slice(0, 2))).toMatch(/^\*\*Deleted\*\*\n\n\| Instance \|/);
    expect(collapsed("<b>x</b>", "body")).toBe("<details><summary>&lt;b&gt;x&lt;/b&gt;</summary>\n\nbody\n\n</details>");
  });

  it("draws Mermaid charts with labels that cannot break out of the block", () => {
    expect(mermaidPie("Versions", [["v1.0.0", 9000], ['v0"9\n```', 1000], ["none", 0]])).toBe(
      '```mermaid\npie showData title Versions\n    "v1.0.0" : 9000\n    "v0 9" : 1000\n```',
    );
    expect(mermaidPie("Empty", [])).toBe("");
    expect(mermaidBars("Waves", "instances", [["1", 10], ["2", 90]])).toBe(
      '```mermaid\nxychart-beta\n    title "Waves"\n    x-axis ["1", "2"]\n    y-axis "instances" 0 --> 90\n    bar [10, 90]\n```',
    );
  });
});

describe("the 1 MiB cap", () => {
  it("leaves a summary under the limit as it is", () => {
    expect(capSummary("### ✅ ok")).toBe("### ✅ ok");
  });

  it("cuts an oversized summary at a block boundary, closes what was open, and says so", () => {
    const block = `<details><summary>names</summary>\n\n${"`name` ".repeat(2000)}\n\n</details>`;
    const huge = ["### ❌ x", ...Array.from({ length: 200 }, () => block), "<details><summary>last</summary>\n\n```\ncode"].join("\n\n");
    expect(Buffer.byteLength(huge)).toBeGreaterThan(SUMMARY_LIMIT_BYTES);
    const cut = capSummary(huge);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(cut.startsWith("### ❌ x")).toBe(true);
    expect(cut.match(/<details>/g)!.length).toBe(cut.match(/<\/details>/g)!.length);
    expect(cut).toMatch(/The summary was cut here to stay under GitHub's 1 MiB limit/);
    // Cut inside an open block: it is closed.
    const open = capSummary(`<details><summary>a</summary>\n\n${"x".repeat(600_000)}\n\n${"y".repeat(600_000)}`, SUMMARY_LIMIT_BYTES);
    expect(open).toMatch(/\n\n<\/details>\n\n> \[!NOTE\]/);
    const fence = capSummary(`\`\`\`\n${"x".repeat(600_000)}\n\n${"y".repeat(600_000)}`);
    expect(fence).toMatch(/\n```\n\n> \[!NOTE\]/);
  });
});

describe("cause groups rendered as GitHub renders Markdown", () => {
  it("stay one list of their own when a list of facts follows them", async () => {
    const { marked } = await import("marked");
    const { facts } = await import("../../src/report/markdown.ts");
    const md = `${causeGroups("Failures by cause", [{ cause: "HTTP 404", count: 1, sample: ["ghost"] }])}\n\n${facts([["Machine", "`m`"]])}`;
    const html = await marked.parse(md);
    const lists = html.match(/<ul>[\s\S]*?<\/ul>/g) ?? [];
    expect(lists).toHaveLength(2);
    expect(lists[0]).toContain("HTTP 404");
    expect(lists[0]).not.toContain("Machine");
    expect(lists[1]).toContain("Machine");
  });
});
