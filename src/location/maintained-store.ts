/**
 * Opening a store for maintenance writes (repack, fsck repairs): take the writer lock
 * (E_STORE_LOCKED while a read-write mount or another repack holds it), turn a packed
 * database back into the plain file, and open the maintenance writer beside MetaDb. Closing
 * packs the database again if it was packed before, then releases the lock.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { BlobStore } from "../blobstore/blob-store.js";
import type { MetaDb } from "../meta/meta-db.js";
import { StoreRewrite } from "../meta/store-rewrite.js";
import { PACKED_DB_SUFFIX, packDatabaseFile } from "../store/packed-db.js";
import { DB_FILE, openStore } from "../store/store-layout.js";
import { acquireStoreLock, type StoreLock } from "../store/store-lock.js";

/** A store open for maintenance writes. */
export interface MaintainedStore {
  readonly dir: string;
  readonly meta: MetaDb;
  /** where the super-chunks live: the directory's sc/, or the store's bucket */
  readonly blobs: BlobStore;
  readonly rewrite: StoreRewrite;
  /** closes both connections, re-packs the database if it was packed, releases the lock */
  close(): void;
}

/**
 * Locks and opens the store at `dir` for writing. At close the database is compacted and
 * packed again when it was packed, or always with `packAtClose` (repack leaves a store as
 * small as pack does, also one a read-write mount had unpacked). `blobs`: where the
 * super-chunks live when not in the directory (an S3 store's working copy, maintain-at.ts).
 */
export function openForMaintenance(
  dir: string,
  purpose: string,
  packAtClose = false,
  blobs?: BlobStore,
): MaintainedStore {
  const lock = acquireStoreLock(dir, purpose);
  try {
    const dbFile = path.join(dir, DB_FILE);
    const wasPacked =
      packAtClose || (!fs.existsSync(dbFile) && fs.existsSync(`${dbFile}${PACKED_DB_SUFFIX}`));
    const store = openStore(dir, { readonly: false });
    const meta = store.meta;
    let rewrite: StoreRewrite;
    try {
      rewrite = StoreRewrite.open(dbFile);
    } catch (err) {
      meta.close();
      throw err;
    }
    return {
      dir,
      meta,
      blobs: blobs ?? store.blobs,
      rewrite,
      close: () => closeAll(meta, rewrite, lock, wasPacked),
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

function closeAll(meta: MetaDb, rewrite: StoreRewrite, lock: StoreLock, repack: boolean): void {
  try {
    rewrite.close();
    if (meta.isOpen && repack) {
      meta.compact();
      meta.close();
      packDatabaseFile(meta.path);
    }
    meta.close();
  } finally {
    lock.release();
  }
}
