/**
 * init: creates an empty store to be written through a read-write mount. Same layout as
 * pack's (spec/FORMAT.md, "Store directory"), with the database left plain
 * (superchunk.db, not packed) since it is about to be written, and a root directory
 * owned by the caller. Built under a hidden sibling name and renamed into place, so a
 * killed init never leaves something that opens as a store.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { wrapFsError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { MetaKey } from "../meta/records.js";
import { ROOT_INO } from "../meta/schema.js";
import { FORMAT_VERSION, InodeKind } from "../types.js";
import { fsyncDirSync } from "./durable.js";
import { checkNewStoreDest, DB_FILE, STATE_COMPLETE } from "./store-layout.js";
import { type StoreSettings, storeSettings, writeStoreSettings } from "./store-settings.js";

/**
 * Settings of a new store: codec, level, super-chunk size and chunker, with the defaults
 * of StoreSettings. Its order is always "path": nothing is grouped by similarity yet.
 */
export type InitOptions = Pick<StoreSettings, "codec" | "level" | "superChunkBytes" | "chunk">;

/** Owner and permissions of the new root directory; default the current process, 0o755. */
export interface InitRoot {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** What init made. */
export interface InitSummary {
  readonly dir: string;
  readonly codec: string;
  readonly level: number;
  readonly superChunkBytes: number;
  readonly chunkAvgBytes: number;
}

/**
 * Creates an empty, complete store at `dest` (missing, or an empty directory).
 * E_DEST_EXISTS / E_DEST_NOT_EMPTY otherwise; E_USAGE on bad options.
 * @example
 * await initStore("/srv/store", { codec: "zstd", superChunkBytes: 4 * MIB });
 */
export function initStore(
  dest: string,
  partial: Partial<InitOptions> = {},
  root: InitRoot = {},
): InitSummary {
  const opts = storeSettings({ ...partial, order: "path" });
  checkNewStoreDest(dest);
  const abs = path.resolve(dest);
  const tmp = path.join(
    path.dirname(abs),
    `.${path.basename(abs)}.partial-${process.pid}-${randomBytes(3).toString("hex")}`,
  );
  try {
    fs.mkdirSync(tmp);
    writeEmptyDatabase(path.join(tmp, DB_FILE), opts, root);
    fsyncDirSync(tmp);
    if (fs.existsSync(abs)) fs.rmdirSync(abs);
    fs.renameSync(tmp, abs);
    fsyncDirSync(path.dirname(abs));
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw wrapFsError(err, dest, "init store");
  }
  return {
    dir: abs,
    codec: opts.codec,
    level: opts.level,
    superChunkBytes: opts.superChunkBytes,
    chunkAvgBytes: opts.chunk.avgBytes,
  };
}

function writeEmptyDatabase(file: string, opts: StoreSettings, root: InitRoot): void {
  const meta = MetaDb.create(file);
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    meta.transaction(() => {
      meta.setMeta(MetaKey.formatVersion, String(FORMAT_VERSION));
      writeStoreSettings(meta, opts);
      meta.insertInode({
        ino: ROOT_INO,
        kind: InodeKind.dir,
        mode: root.mode ?? 0o755,
        uid: root.uid ?? process.getuid?.() ?? 0,
        gid: root.gid ?? process.getgid?.() ?? 0,
        size: 0,
        atimeNs: now,
        mtimeNs: now,
        ctimeNs: now,
        nlink: 2,
      });
      meta.setMeta(MetaKey.state, STATE_COMPLETE);
    });
  } finally {
    meta.close();
  }
}
