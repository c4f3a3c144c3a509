/**
 * fsck's checks of the file tree (spec/FORMAT.md, tables `inodes`, `entries`, `xattrs`):
 * the root, each inode's kind against its content, target and rdev, each entry's name,
 * check value, parent and inode, the walk from the root (no directory reached twice,
 * every inode reached), and link counts. Each problem carries the stable name of the invariant it
 * breaks (`check`) and the paths it concerns. Works on raw rows, so a broken tree is
 * reported, never thrown on; the paths it finds are what fsck names files by.
 */
import { entryCrcProblem } from "../meta/row-crc.js";
import type { TreeEntry, TreeInode, TreeRows } from "../meta/tree-rows.js";
import { InodeKind } from "../types.js";
import type { FsckCheck, FsckProblem } from "./fsck-report.js";

const ROOT = 1;
/** Longest name a Linux file system takes (NAME_MAX). */
const NAME_MAX_BYTES = 255;

/** The tree's problems, and every path of every inode reached from the root. */
export interface TreeCheck {
  readonly problems: FsckProblem[];
  /** ino → its paths ('/'-separated from the root; "" is the root) */
  readonly paths: Map<number, string[]>;
}

function problem(check: FsckCheck, message: string, paths: readonly string[] = []) {
  const p: FsckProblem = { kind: "tree", check, code: "E_CORRUPT", severity: "error", message };
  if (paths.length > 0) p.affected = [{ ino: 0, paths: [...paths], ranges: [] }];
  return p;
}

/** What is wrong with a name, or undefined when it is a valid entry name. */
export function badName(name: Buffer): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.includes(0x2f)) return "contains '/'";
  if (name.includes(0)) return "contains NUL";
  if (name.equals(DOT) || name.equals(DOTDOT)) return `is '${name.toString()}'`;
  if (name.length > NAME_MAX_BYTES) return `is ${name.length} bytes long`;
  return undefined;
}
const DOT = Buffer.from(".");
const DOTDOT = Buffer.from("..");

/** Checks the tree's rows. */
export function checkTree(rows: TreeRows): TreeCheck {
  const problems: FsckProblem[] = [];
  const { paths, reached } = walkFromRoot(rows, problems);
  const at = (ino: number) => paths.get(ino) ?? [`<inode ${ino}>`];
  const root = rows.inodes.get(ROOT);
  if (root === undefined) problems.push(problem("root", "inode 1 (the root) does not exist"));
  else if (root.kind !== InodeKind.dir)
    problems.push(problem("root", `inode 1 (the root) is of kind ${root.kind}, not a directory`));
  for (const r of rows.inodes.values()) problems.push(...checkInode(r, at(r.ino)));
  problems.push(...checkEntries(rows, at));
  problems.push(...checkLinks(rows, reached, at));
  for (const x of rows.xattrs) {
    if (!rows.inodes.has(x.ino))
      problems.push(problem("xattr", `xattr of inode ${x.ino}, which does not exist`));
    if (x.name.length === 0)
      problems.push(problem("xattr", `inode ${x.ino}: an xattr with an empty name`, at(x.ino)));
  }
  return { problems, paths };
}

/** One inode's columns against its kind. */
function checkInode(r: TreeInode, paths: string[]): FsckProblem[] {
  const out: FsckProblem[] = [];
  const say = (check: FsckCheck, what: string) =>
    out.push(problem(check, `inode ${r.ino} (kind ${r.kind}): ${what}`, paths));
  if (r.crcProblem !== undefined) say("inode-crc", r.crcProblem);
  if (!Number.isInteger(r.kind) || r.kind < InodeKind.file || r.kind > InodeKind.socket) {
    say("inode-kind", "unknown kind");
    return out;
  }
  if (r.content !== null && r.kind !== InodeKind.file) say("inode-content", "has a content");
  if (r.kind === InodeKind.file && r.content === null && r.size !== 0)
    say("inode-content", `has no content but a size of ${r.size}`);
  if ((r.target !== null) !== (r.kind === InodeKind.symlink))
    say("inode-target", r.target === null ? "is a symlink without a target" : "has a target");
  if (r.kind === InodeKind.symlink && r.target !== null) {
    if (r.target.length === 0) say("symlink-target", "the symlink's target is empty");
    else if (r.target.includes(0)) say("symlink-target", "the symlink's target contains NUL");
    if (r.size !== r.target.length)
      say("inode-size", `size ${r.size}, its target is ${r.target.length} bytes`);
  }
  const device = r.kind === InodeKind.chardev || r.kind === InodeKind.blockdev;
  if (!device && r.rdev !== 0) say("inode-rdev", `rdev ${r.rdev} on an inode that is no device`);
  if (r.size < 0 || !Number.isSafeInteger(r.size)) say("inode-size", `size ${r.size}`);
  return out;
}

/** Each entry's name, parent and inode. */
function checkEntries(rows: TreeRows, at: (ino: number) => string[]): FsckProblem[] {
  const out: FsckProblem[] = [];
  for (const e of rows.entries) {
    const dir = at(e.parent)[0];
    const where = dir === "" ? printable(e.name) : `${dir}/${printable(e.name)}`;
    const why = badName(e.name);
    if (why !== undefined)
      out.push(problem("entry-name", `entry ${JSON.stringify(where)}: the name ${why}`, [where]));
    const crc = entryCrcProblem(e.parent, e.name, e.ino, e.crc);
    if (crc !== undefined)
      out.push(problem("entry-crc", `entry ${JSON.stringify(where)}: ${crc}`, [where]));
    const parent = rows.inodes.get(e.parent);
    if (parent === undefined)
      out.push(
        problem(
          "entry-parent",
          `entry ${JSON.stringify(where)}: parent ${e.parent} does not exist`,
          [where],
        ),
      );
    else if (parent.kind !== InodeKind.dir)
      out.push(
        problem(
          "entry-parent",
          `entry ${JSON.stringify(where)}: parent ${e.parent} is of kind ${parent.kind}, not a directory`,
          [where],
        ),
      );
    if (!rows.inodes.has(e.ino))
      out.push(
        problem("entry-inode", `entry ${JSON.stringify(where)}: inode ${e.ino} does not exist`, [
          where,
        ]),
      );
  }
  return out;
}

/** Every inode named and reached; directories named once; link counts. */
function checkLinks(
  rows: TreeRows,
  reached: ReadonlySet<number>,
  at: (ino: number) => string[],
): FsckProblem[] {
  const out: FsckProblem[] = [];
  const names = new Map<number, number>();
  const subdirs = new Map<number, number>();
  for (const e of rows.entries) {
    names.set(e.ino, (names.get(e.ino) ?? 0) + 1);
    if (rows.inodes.get(e.ino)?.kind === InodeKind.dir)
      subdirs.set(e.parent, (subdirs.get(e.parent) ?? 0) + 1);
  }
  for (const r of rows.inodes.values()) {
    const n = names.get(r.ino) ?? 0;
    const isDir = r.kind === InodeKind.dir;
    if (r.ino === ROOT) {
      if (n > 0) out.push(problem("dir-links", `the root is named by ${n} entries`));
    } else if (n === 0) {
      const p = problem("unreachable", `inode ${r.ino} (kind ${r.kind}) is named by no entry`);
      // a file unlinked while open (nlink 0) is removed by the writer's recovery
      out.push(r.nlink === 0 && !isDir ? { ...p, severity: "warning" } : p);
      continue;
    } else if (isDir && n !== 1) {
      out.push(problem("dir-links", `directory ${r.ino} is named by ${n} entries`, at(r.ino)));
    } else if (!reached.has(r.ino)) {
      out.push(
        problem("unreachable", `inode ${r.ino} (kind ${r.kind}) is not reached from the root`),
      );
    }
    const want = isDir ? 2 + (subdirs.get(r.ino) ?? 0) : n;
    if (r.nlink !== want)
      out.push(problem("nlink", `inode ${r.ino}: nlink ${r.nlink}, should be ${want}`, at(r.ino)));
  }
  return out;
}

/**
 * Walks the entries from the root: every path of every inode reached. A directory reached a
 * second time (a cycle, or a directory with two names) is reported and not entered again.
 */
function walkFromRoot(
  rows: TreeRows,
  problems: FsckProblem[],
): { paths: Map<number, string[]>; reached: Set<number> } {
  const children = new Map<number, TreeEntry[]>();
  for (const e of rows.entries) {
    const list = children.get(e.parent);
    if (list === undefined) children.set(e.parent, [e]);
    else list.push(e);
  }
  const paths = new Map<number, string[]>([[ROOT, [""]]]);
  const reached = new Set<number>([ROOT]);
  const stack: { ino: number; path: string }[] = [{ ino: ROOT, path: "" }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const e of children.get(dir.ino) ?? []) {
      const p = dir.path === "" ? printable(e.name) : `${dir.path}/${printable(e.name)}`;
      const list = paths.get(e.ino);
      if (list === undefined) paths.set(e.ino, [p]);
      else list.push(p);
      if (rows.inodes.get(e.ino)?.kind !== InodeKind.dir) {
        reached.add(e.ino);
        continue;
      }
      if (reached.has(e.ino)) {
        problems.push(
          problem("cycle", `directory ${e.ino} is reached twice (at ${JSON.stringify(p)})`, [p]),
        );
        continue;
      }
      reached.add(e.ino);
      stack.push({ ino: e.ino, path: p });
    }
  }
  return { paths, reached };
}

/** A name as text: UTF-8 where it is, NUL shown as \0. */
function printable(name: Buffer): string {
  return name.toString("utf8").replace(/\0/g, "\\0");
}
