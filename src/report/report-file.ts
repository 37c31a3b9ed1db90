import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

/** A JSON Lines report, streamed to disk so 100,000 outcomes never sit in memory. */
export class JsonLinesFile {
  readonly path: string;
  private readonly stream: WriteStream;
  private error: Error | undefined;

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

  write(record: object): void {
    this.stream.write(`${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.error) throw this.error;
  }
}
