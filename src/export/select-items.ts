/**
 * What extract restores: the store's entries below the paths asked for (all when none),
 * with the directories leading to them, each name checked; a whole tree must also reach
 * every named inode (entries lost from a directory end in E_CORRUPT, never in a tree with
 * files silently missing).
 */
import { CorruptError, NotFoundError } from "../errors.js";
import { ROOT_INO } from "../meta/schema.js";
import type { StoreReader } from "../reader/store-reader.js";
import type { InodeId } from "../types.js";
import { checkRelPath } from "./dest-paths.js";

/** One path of the store to restore, in walk order. */
export interface Item {
  readonly rel: Buffer;
  readonly ino: InodeId;
}

/** The store's entries below `paths` (all when empty), with the directories leading to them. */
export function selectItems(reader: StoreReader, paths: readonly string[]): Item[] {
  const all: Item[] = [];
  const reached = new Set<number>();
  for (const e of reader.meta.walk()) {
    checkRelPath(e.path);
    all.push({ rel: e.path, ino: e.ino });
    reached.add(e.ino);
  }
  reached.add(ROOT_INO);
  // a named inode the walk never reached: entries of some directory were lost
  const named = reader.meta.countNamedInodes();
  if (named > reached.size) {
    throw new CorruptError(
      "E_CORRUPT",
      `${storeLabel(reader)}: ${named - reached.size} named inodes are not reached from the root (directory entries lost)`,
      { unreached: named - reached.size },
    );
  }
  if (paths.length === 0) return all;
  const wanted = paths.map((p) => {
    const clean = Buffer.from(p.replace(/^\/+|\/+$/g, ""));
    if (clean.length > 0 && reader.lookupPath(clean) === undefined) {
      throw new NotFoundError("E_NOT_FOUND", `${p}: not in the store`, { path: p });
    }
    return clean;
  });
  return all.filter((it) => wanted.some((w) => w.length === 0 || isUnderOrAncestor(it.rel, w)));
}

/** True when `rel` is `w`, inside `w`, or a directory on the way to `w`. */
function isUnderOrAncestor(rel: Buffer, w: Buffer): boolean {
  const under = (a: Buffer, b: Buffer) =>
    a.length >= b.length &&
    a.subarray(0, b.length).equals(b) &&
    (a.length === b.length || a[b.length] === 0x2f);
  return under(rel, w) || under(w, rel);
}

function storeLabel(reader: StoreReader): string {
  return reader.meta.path;
}
