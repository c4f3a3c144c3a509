/**
 * A store directory's super-chunk files as a BlobStore: one file per key below the
 * store directory, written durably (temporary file, fsync, rename, fsync of the directory).
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { NotFoundError, UsageError, wrapFsError } from "../errors.js";
import type { BlobStore, ByteRange } from "./blob-store.js";

/**
 * Blobs as files below a directory. put() writes a temporary file beside the
 * target, fsyncs it, renames it into place and fsyncs the directory, so a crash
 * leaves the old state or the new one.
 */
export class DirBlobStore implements BlobStore {
  readonly location: string;
  private readonly syncedDirs = new Set<string>();

  constructor(readonly root: string) {
    this.location = root;
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const file = this.file(key);
    if (!range) return this.guard(key, () => fs.readFile(file));
    return this.guard(key, async () => {
      const fh = await fs.open(file, "r");
      try {
        const buf = Buffer.allocUnsafe(range.length);
        let got = 0;
        while (got < range.length) {
          const { bytesRead } = await fh.read(buf, got, range.length - got, range.offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === range.length ? buf : buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    });
  }

  /** The whole blob read into a buffer from `alloc` (see BlobStore.getInto). */
  async getInto(key: string, alloc: (size: number) => Promise<Buffer>): Promise<Buffer> {
    return this.guard(key, async () => {
      const fh = await fs.open(this.file(key), "r");
      try {
        const size = (await fh.stat()).size;
        const buf = await alloc(size);
        let got = 0;
        while (got < size) {
          const { bytesRead } = await fh.read(buf, got, size - got, got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === size ? buf : buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    });
  }

  async size(key: string): Promise<number> {
    return this.guard(key, async () => {
      const st = await fs.stat(this.file(key));
      if (!st.isFile()) throw Object.assign(new Error("not a blob"), { code: "ENOENT" });
      return st.size;
    });
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.file(key))).isFile();
    } catch {
      return false;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const file = this.file(key);
    const dir = path.dirname(file);
    const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      await this.ensureDir(dir);
      const fh = await fs.open(tmp, "wx");
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, file);
      await syncDir(dir);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw wrapFsError(err, file, "write super-chunk");
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    const out: string[] = [];
    await walk(this.root, "", out);
    for (const key of out) if (key.startsWith(prefix)) yield key;
  }

  async close(): Promise<void> {}

  private file(key: string): string {
    if (key.startsWith("/") || key.split("/").some((p) => p === ".." || p === "." || p === "")) {
      throw new UsageError("E_PATH_ESCAPE", `invalid blob key ${JSON.stringify(key)}`, { key });
    }
    return path.join(this.root, key);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.syncedDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    await syncDir(path.dirname(dir));
    this.syncedDirs.add(dir);
  }

  private async guard<T>(key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // a directory under the store (sc/01) is no blob: missing, like a name never written
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR") {
        throw new NotFoundError("E_SUPERCHUNK_MISSING", `${path.join(this.root, key)}: missing`, {
          key,
        });
      }
      throw wrapFsError(err, path.join(this.root, key), "read super-chunk");
    }
  }
}

DirBlobStore satisfies new (
  root: string,
) => BlobStore;

/** fsync a directory so a rename or create inside it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let names: import("node:fs").Dirent[];
  try {
    names = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of names) {
    const key = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) await walk(root, key, out);
    else if (d.isFile()) out.push(key);
  }
}
