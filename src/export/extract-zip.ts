/**
 * extract --zip: writes a store's tree (or some paths of it) as an ordinary zip that
 * `unzip` turns back into the same tree: contents (deflated), permission bits,
 * modification times, symlinks, directories (empty ones too). Zip has no hard links,
 * so every link is written as a file of its own; FIFOs, devices and sockets, names
 * that are not UTF-8 and names holding a backslash are skipped with a warning.
 * The zip is written to a temporary sibling and renamed into place when complete;
 * an existing file is replaced only with `force`.
 */

import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { cleanupAfter, UsageError, wrapFsError } from "../errors.js";
import { openStoreReaderAt } from "../location/store-view.js";
import type { InodeAttr } from "../reader/fs-view.js";
import type { StoreReader } from "../reader/store-reader.js";
import { fsyncDirSync } from "../store/durable.js";
import { storeIdOf } from "../store/store-id.js";
import { type InodeId, InodeKind } from "../types.js";
import { ZipTreeWriter } from "../zip/zip-tree-writer.js";
import type { ExtractHooks, ExtractSummary } from "./extract.js";
import { type Item, selectItems } from "./select-items.js";

/** Options of {@link extractToZip}. */
export interface ExtractZipOptions {
  /** replace an existing file at the destination; default false */
  force?: boolean;
}

const READ_BYTES = 4 * 1024 * 1024;

/**
 * Writes `paths` (all when empty) of the store at `store` as a zip file at `out`.
 * UsageError E_DEST_EXISTS when `out` exists (a directory always; a file unless `force`).
 *
 * @example
 * await extractToZip("store", "tree.zip", ["docs"], { force: true });
 */
export async function extractToZip(
  store: string,
  out: string,
  paths: readonly string[] = [],
  opts: ExtractZipOptions = {},
  hooks: ExtractHooks = {},
): Promise<ExtractSummary> {
  const started = process.hrtime.bigint();
  checkZipDest(out, opts.force ?? false);
  const reader = await openStoreReaderAt(store);
  const tmp = path.join(
    path.dirname(path.resolve(out)),
    `.${path.basename(out)}.tmp-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
  const work = async () => {
    const items = selectItems(reader, paths);
    const writer = new ZipTreeWriter(tmp);
    let summary: ExtractSummary;
    try {
      summary = addItems(reader, items, writer, hooks);
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    fs.renameSync(tmp, out);
    fsyncDirSync(path.dirname(path.resolve(out)));
    summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return summary;
  };
  const wrapped = () =>
    work().catch((err) => {
      fs.rmSync(tmp, { force: true });
      throw wrapFsError(err, out, "write zip");
    });
  return cleanupAfter(wrapped, () => reader.close());
}

function checkZipDest(out: string, force: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch {
    return;
  }
  if (st.isDirectory() || !force) {
    throw new UsageError(
      "E_DEST_EXISTS",
      `${out}: already exists${st.isDirectory() ? " and is a directory" : " (use --force to replace it)"}`,
      { path: out },
    );
  }
}

/** Queues every item on the writer; file bytes are read later, as the zip is written. */
function addItems(
  reader: StoreReader,
  items: readonly Item[],
  writer: ZipTreeWriter,
  hooks: ExtractHooks,
): ExtractSummary {
  const s: ExtractSummary = {
    storeId: storeIdOf(reader.meta),
    // the root counts, as pack and stats count it (the zip holds no entry for it)
    ...{ files: 0, dirs: 1, symlinks: 0, other: 0, bytes: 0, seconds: 0 },
  };
  const progress = { done: 0, bytes: 0, total: 0 };
  for (const it of items) {
    if (it.rel.length === 0) continue; // the root is the zip itself
    const a = reader.getattr(it.ino)!;
    const name = zipName(it.rel, hooks);
    if (name === undefined) continue;
    const attrs = { mode: a.mode, mtime: new Date(Number(a.mtimeNs / 1_000_000n)) };
    if (a.kind === InodeKind.dir) {
      writer.addDirectory(name, attrs);
      s.dirs++;
    } else if (a.kind === InodeKind.symlink) {
      writer.addSymlink(name, reader.readlink(it.ino), attrs);
      s.symlinks++;
    } else if (a.kind === InodeKind.file) {
      progress.total += a.size;
      writer.addFile(name, a.size, attrs, () =>
        Readable.from(fileBytes(reader, a, (n) => report(hooks, progress, items.length, n))),
      );
      s.files++;
      s.bytes += a.size;
    } else {
      skip(hooks, it.rel, "is a FIFO, device or socket: zip cannot hold it");
    }
  }
  return s;
}

async function* fileBytes(
  reader: StoreReader,
  a: InodeAttr,
  onRead: (n: number) => void,
): AsyncGenerator<Buffer> {
  for (let off = 0; off < a.size; off += READ_BYTES) {
    const buf = await reader.read(a.ino as InodeId, off, Math.min(READ_BYTES, a.size - off));
    onRead(buf.length);
    yield buf;
  }
  onRead(0);
}

function report(
  hooks: ExtractHooks,
  p: { done: number; bytes: number; total: number },
  filesTotal: number,
  n: number,
): void {
  if (n === 0) p.done++;
  p.bytes += n;
  hooks.onProgress?.({ filesDone: p.done, filesTotal, bytesDone: p.bytes, bytesTotal: p.total });
}

/** The entry name for `rel`, or undefined (with a warning) when zip cannot carry it. */
function zipName(rel: Buffer, hooks: ExtractHooks): string | undefined {
  if (!isUtf8(rel)) return skip(hooks, rel, "name is not UTF-8");
  if (rel.includes(0x5c)) return skip(hooks, rel, "name holds a backslash (a separator in zip)");
  return rel.toString("utf8");
}

function skip(hooks: ExtractHooks, rel: Buffer, why: string): undefined {
  const p = rel.toString();
  hooks.onWarning?.({ path: p, code: "E_UNSUPPORTED", message: `${p}: ${why}; skipped` });
  return undefined;
}
