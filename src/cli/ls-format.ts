/**
 * How `superchunk ls` shows entries: names one per line (raw bytes, as `ls -1` writes
 * them to a pipe), the long form of `ls -ln` (mode string, links, numeric owner and
 * group, size or device numbers, time, name, `-> target`), and the JSON document.
 */
import type { ListEntry, ListResult } from "../export/list-store.js";
import type { InodeRecord } from "../meta/records.js";
import { InodeKind } from "../types.js";

const TYPE_CHAR: Record<InodeKind, string> = {
  [InodeKind.file]: "-",
  [InodeKind.dir]: "d",
  [InodeKind.symlink]: "l",
  [InodeKind.fifo]: "p",
  [InodeKind.chardev]: "c",
  [InodeKind.blockdev]: "b",
  [InodeKind.socket]: "s",
};

/** `drwxr-xr-x`, with s/S and t/T for the set-id and sticky bits, as ls shows them. */
export function modeString(kind: InodeKind, mode: number): string {
  const bit = (m: number, c: string) => (mode & m ? c : "-");
  const special = (x: number, set: number, lower: string) => {
    const on = (mode & x) !== 0;
    if ((mode & set) === 0) return on ? "x" : "-";
    return on ? lower : lower.toUpperCase();
  };
  return [
    TYPE_CHAR[kind],
    bit(0o400, "r"),
    bit(0o200, "w"),
    special(0o100, 0o4000, "s"),
    bit(0o040, "r"),
    bit(0o020, "w"),
    special(0o010, 0o2000, "s"),
    bit(0o004, "r"),
    bit(0o002, "w"),
    special(0o001, 0o1000, "t"),
  ].join("");
}

/** The lines of `ls -1`: each entry's name (its path with `recursive`), raw bytes. */
export function renderNames(r: ListResult, recursive: boolean): Buffer {
  const nl = Buffer.from("\n");
  return Buffer.concat(r.entries.flatMap((e) => [displayName(r, e, recursive), nl]));
}

/** The lines of `ls -ln`, columns aligned. */
export function renderLong(r: ListResult, recursive: boolean): Buffer {
  const rows = r.entries.map((e) => ({
    cols: [
      modeString(e.inode.kind, e.inode.mode),
      String(e.inode.nlink),
      String(e.inode.uid),
      String(e.inode.gid),
      sizeColumn(e.inode),
      timeColumn(e.inode.mtimeNs),
    ],
    name: displayName(r, e, recursive),
    target: e.inode.kind === InodeKind.symlink ? e.inode.target : null,
  }));
  const width = (i: number) => Math.max(0, ...rows.map((row) => row.cols[i]!.length));
  const widths = [0, 1, 2, 3, 4, 5].map(width);
  const right = new Set([1, 4]); // numbers right-aligned, as ls does (ids left)
  return Buffer.concat(
    rows.flatMap((row) => {
      const cols = row.cols.map((c, i) =>
        right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
      );
      const parts = [Buffer.from(`${cols.join(" ")} `), row.name];
      if (row.target) parts.push(Buffer.from(" -> "), row.target);
      parts.push(Buffer.from("\n"));
      return parts;
    }),
  );
}

/** The `--json` document (version 1). Names that are not UTF-8 also come base64-encoded. */
export function listJson(r: ListResult): object {
  return {
    version: 1,
    store: r.store,
    path: r.path,
    entries: r.entries.map((e) => entryJson(e)),
  };
}

function entryJson(e: ListEntry): object {
  const i = e.inode;
  const target = i.kind === InodeKind.symlink ? i.target : null;
  return {
    name: e.name.toString(),
    path: e.path.toString(),
    type: typeName(i.kind),
    mode: i.mode,
    uid: i.uid,
    gid: i.gid,
    size: i.size,
    nlink: i.nlink,
    mtime: new Date(Number(i.mtimeNs / 1_000_000n)).toISOString(),
    mtimeNs: i.mtimeNs.toString(),
    ...(target ? { target: target.toString() } : {}),
    ...raw("rawName", e.name),
    ...raw("rawPath", e.path),
    ...(target ? raw("rawTarget", target) : {}),
  };
}

/** `{ [key]: base64 }` when `b` is not valid UTF-8 (its string form lost bytes), else {}. */
function raw(key: string, b: Buffer): object {
  return Buffer.from(b.toString(), "utf8").equals(b) ? {} : { [key]: b.toString("base64") };
}

function typeName(kind: InodeKind): "file" | "dir" | "symlink" | "other" {
  if (kind === InodeKind.file) return "file";
  if (kind === InodeKind.dir) return "dir";
  if (kind === InodeKind.symlink) return "symlink";
  return "other";
}

function displayName(r: ListResult, e: ListEntry, recursive: boolean): Buffer {
  if (!r.isDir) return e.path.length > 0 ? e.path : e.name;
  if (!recursive) return e.name;
  // path below the directory listed
  return r.path.length === 0 ? e.path : e.path.subarray(Buffer.byteLength(r.path) + 1);
}

function sizeColumn(i: InodeRecord): string {
  if (i.kind !== InodeKind.chardev && i.kind !== InodeKind.blockdev) return String(i.size);
  const major = ((i.rdev >>> 8) & 0xfff) | (Math.floor(i.rdev / 2 ** 32) & ~0xfff);
  const minor = (i.rdev & 0xff) | ((i.rdev >>> 12) & ~0xff);
  return `${major}, ${minor}`;
}

/** `2024-05-01 13:37`, local time (ls's long-iso style). */
function timeColumn(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
