/**
 * What extract restores: the store's entries below the paths asked for (all when none),
 * with the directories leading to them, each name checked. A path that is not in the
 * store but holds glob syntax (`GL/*.h`, `src/**\/*.c`: glob/path-glob.ts) stands for
 * every path it matches; one matching nothing is E_NOT_FOUND naming it; a whole tree must also reach
 * every named inode (entries lost from a directory end in E_CORRUPT, never in a tree with
 * files silently missing), and every inode's link count must be what its entries say (a
 * file's, the names it has; a directory's, 2 and its subdirectories, as fsck checks): an
 * inode whose kind was changed in the database (a directory made a file, say) fails it.
 */
import { CorruptError, NotFoundError } from "../errors.js";
import { globMatcher, isGlob } from "../glob/path-glob.js";
import { ROOT_INO } from "../meta/schema.js";
import type { StoreReader } from "../reader/store-reader.js";
import type { InodeId } from "../types.js";
import { InodeKind } from "../types.js";
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
  const inodes = reader.meta.linkCounts();
  const links = new Map<number, number>(); // names of a non-directory, subdirs of a directory
  for (const e of reader.meta.walk()) {
    checkRelPath(e.path);
    all.push({ rel: e.path, ino: e.ino });
    reached.add(e.ino);
    const isDir = inodes.get(e.ino)?.kind === InodeKind.dir;
    if (isDir) links.set(e.parent, (links.get(e.parent) ?? 0) + 1);
    else links.set(e.ino, (links.get(e.ino) ?? 0) + 1);
  }
  reached.add(ROOT_INO);
  checkLinkCounts(reader, all, inodes, links);
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
  const wanted = paths.flatMap((p) => wantedFor(reader, all, p));
  if (wanted.some((w) => w.length === 0)) return all;
  // kept: a wanted path, anything below one, and the directories on the way to one
  const keys = new Set(wanted.map((w) => w.toString("latin1")));
  const onTheWay = new Set(wanted.flatMap((w) => ancestorsOf(w.toString("latin1"))));
  return all.filter((it) => {
    const rel = it.rel.toString("latin1");
    return onTheWay.has(rel) || keys.has(rel) || ancestorsOf(rel).some((a) => keys.has(a));
  });
}

/**
 * The store paths `p` names: itself when it is in the store (or the root), else every path
 * it matches as a glob; E_NOT_FOUND naming `p` when there is none.
 */
function wantedFor(reader: StoreReader, all: readonly Item[], p: string): Buffer[] {
  const clean = p.replace(/^\/+|\/+$/g, "");
  if (clean.length === 0 || reader.lookupPath(Buffer.from(clean)) !== undefined)
    return [Buffer.from(clean)];
  if (!isGlob(clean)) throw new NotFoundError("E_NOT_FOUND", `${p}: not in the store`, { path: p });
  const match = globMatcher(clean);
  const hits = all.filter((it) => match(it.rel.toString())).map((it) => it.rel);
  if (hits.length === 0)
    throw new NotFoundError(
      "E_NOT_FOUND",
      `${p}: not found in the store (no path matches the pattern)`,
      { path: p },
    );
  return hits;
}

/** "a", "a/b" for "a/b/c" (the directories on the way, root excluded). */
function ancestorsOf(rel: string): string[] {
  const out: string[] = [];
  for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) out.push(rel.slice(0, i));
  return out;
}

/** E_CORRUPT naming the first reached inode whose link count is not what its entries say. */
function checkLinkCounts(
  reader: StoreReader,
  all: readonly Item[],
  inodes: ReadonlyMap<number, { kind: number; nlink: number }>,
  links: ReadonlyMap<number, number>,
): void {
  const check = (ino: number, rel: string) => {
    const r = inodes.get(ino);
    if (r === undefined) return;
    const want = (r.kind === InodeKind.dir ? 2 : 0) + (links.get(ino) ?? 0);
    if (r.nlink === want) return;
    throw new CorruptError(
      "E_CORRUPT",
      `${storeLabel(reader)}: inode ${ino} (${rel}): nlink ${r.nlink}, its entries say ${want}`,
      { ino, nlink: r.nlink, want },
    );
  };
  check(ROOT_INO, "/");
  for (const it of all) check(it.ino, it.rel.toString());
}

function storeLabel(reader: StoreReader): string {
  return reader.meta.path;
}
