/**
 * An interrupted `repack` of a store directory: before the one metadata transaction that
 * switches to the new super-chunks, the new files it wrote are nobody's and are removed;
 * after it, the store is repacked and only the retired files may remain (unused). Either
 * way the writer's lock this process holds is released. An S3 store is changed only when
 * its new generation is published, so an interrupted repack there leaves it as it was.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { superChunkKey } from "../blobstore/blob-store.js";
import { openStore } from "../store/store-layout.js";
import { releaseOwnLock } from "../store/store-lock.js";
import { type InterruptCleanup, NOTHING_WRITTEN } from "./interrupt.js";

/** The super-chunk files under `dir`/sc/ (not the metadata copy's), as keys. */
function superChunkFiles(dir: string): Set<string> {
  const keys = new Set<string>();
  let subs: string[];
  try {
    subs = fs.readdirSync(path.join(dir, "sc"));
  } catch {
    return keys;
  }
  for (const sub of subs) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const name of fs.readdirSync(path.join(dir, "sc", sub))) keys.add(`sc/${sub}/${name}`);
  }
  return keys;
}

/** The keys of the super-chunks the store's committed database names. */
function referenced(dir: string): Set<string> {
  const store = openStore(dir, { readonly: true });
  try {
    return new Set(store.meta.listSuperChunks().map((r) => superChunkKey(r.id)));
  } finally {
    store.meta.close();
  }
}

/**
 * The cleanup of a repack of `location`, noting the super-chunk files there now (call it
 * before the repack starts). A dry run writes nothing: its cleanup only says so.
 */
export function repackCleanup(location: string, dryRun: boolean): InterruptCleanup {
  let isDir = false;
  try {
    isDir = !location.includes("://") && fs.statSync(location).isDirectory();
  } catch {
    // not there: the repack will say so
  }
  if (dryRun || !isDir) return () => NOTHING_WRITTEN;
  const before = superChunkFiles(location);
  return () => {
    const now = superChunkFiles(location);
    const named = referenced(location);
    let removed = 0;
    let switched = false;
    for (const key of now) {
      if (before.has(key)) continue;
      if (named.has(key)) switched = true;
      else {
        fs.rmSync(path.join(location, key), { force: true });
        removed++;
      }
    }
    releaseOwnLock(location);
    if (switched) {
      return "interrupted after the switch to the new super-chunks: the store is repacked; retired super-chunk files may remain, unused";
    }
    return `${NOTHING_WRITTEN}: the store holds what it held (${removed} new super-chunk files removed)`;
  };
}
