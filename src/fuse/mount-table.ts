/**
 * The kernel's mount table as this process sees it (/proc/self/mountinfo, Linux): is a path a
 * mount point, and of what file-system type. Used to refuse a busy mountpoint, to notice an
 * unmount done from outside, and by `umount` to check its work.
 */
import { readFile } from "node:fs/promises";

/** One line of /proc/self/mountinfo, the fields we use. */
export interface MountEntry {
  /** absolute mount point, unescaped */
  readonly mountpoint: string;
  /** e.g. "fuse.superchunk", "ext4" */
  readonly fstype: string;
  /** the mount source (for FUSE: the fsname option) */
  readonly source: string;
}

const MOUNTINFO = "/proc/self/mountinfo";

/** Undoes the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash). */
function unescapeField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/** Parses mountinfo text; lines it cannot read are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(" ");
    const post = line.slice(dash + 3).split(" ");
    const mp = pre[4];
    if (mp === undefined || post.length < 2) continue;
    out.push({ mountpoint: unescapeField(mp), fstype: post[0]!, source: unescapeField(post[1]!) });
  }
  return out;
}

/** The current mount table; empty where /proc is unavailable. */
export async function readMountTable(): Promise<MountEntry[]> {
  try {
    return parseMountInfo(await readFile(MOUNTINFO, "utf8"));
  } catch {
    return [];
  }
}

/** The topmost mount at exactly `absPath` (a resolved absolute path), if any. */
export async function findMount(absPath: string): Promise<MountEntry | undefined> {
  const table = await readMountTable();
  let found: MountEntry | undefined;
  for (const e of table) if (e.mountpoint === absPath) found = e;
  return found;
}
