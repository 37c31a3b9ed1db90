import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { redact } from "../runtime/secrets.ts";

/** Lines are written in chunks of about this many characters (one write per chunk, not per line). */
const CHUNK_CHARS = 64 * 1024;

/** A JSON Lines report, streamed to disk so 100,000 outcomes never sit in memory. */
export class JsonLinesFile {
  readonly path: string;
  private readonly stream: WriteStream;
  private error: Error | undefined;
  private pending: string[] = [];
  private pendingChars = 0;

  private constructor(path: string) {
    this.path = path;
    this.stream = createWriteStream(path, { flags: "w" });
    this.stream.on("error", (err) => (this.error = err));
  }

  static async create(dir: string, baseName: string): Promise<JsonLinesFile> {
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return new JsonLinesFile(join(dir, `${baseName}-${stamp}.jsonl`));
  }

  /** One record as one line, secrets redacted (they may be in a server's message). */
  write(record: object): void {
    const line = redact(JSON.stringify(record));
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.stream.write(`${this.pending.join("\n")}\n`);
    this.pending = [];
    this.pendingChars = 0;
  }

  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.error) throw this.error;
  }
}

/** Writes a whole text file (a report, a list of names), secrets redacted. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  await writeFile(path, redact(text));
}

/** Writes a report file as writeTextFile does; a failure is a warning, not the step's end. The path, or undefined when it failed. */
export async function writeReportFile(path: string, text: string, warn: (message: string) => void): Promise<string | undefined> {
  try {
    await writeTextFile(path, text);
    return path;
  } catch (err) {
    warn(`Could not write the report file ${path}: ${(err as Error).message}`);
    return undefined;
  }
}
