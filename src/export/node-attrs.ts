/**
 * The parts of an extract that are not file contents: special nodes (FIFOs and device
 * nodes, made with mknod; sockets are not restored) and an entry's ownership (as root),
 * mode and times, set once its contents are in place.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { type EngineWarning, wrapFsError } from "../errors.js";
import type { InodeAttr } from "../reader/fs-view.js";
import { InodeKind } from "../types.js";
import { replaceWith } from "./dest-paths.js";

/** Where warnings (a node not restored, an attribute not set) go. */
export interface NodeHooks {
  onWarning?: ((w: EngineWarning) => void) | undefined;
}

export function makeSpecial(abs: Buffer, a: InodeAttr, hooks: NodeHooks): boolean {
  const p = abs.toString();
  let args: string[];
  if (a.kind === InodeKind.fifo) args = [p, "p"];
  else if (a.kind === InodeKind.chardev || a.kind === InodeKind.blockdev) {
    if (process.getuid?.() !== 0) {
      hooks.onWarning?.({
        path: p,
        code: "E_UNSUPPORTED",
        message: `${p}: device node needs root, skipped`,
      });
      return false;
    }
    args = [
      p,
      a.kind === InodeKind.chardev ? "c" : "b",
      String(major(a.rdev)),
      String(minor(a.rdev)),
    ];
  } else {
    hooks.onWarning?.({ path: p, code: "E_UNSUPPORTED", message: `${p}: socket not restored` });
    return false;
  }
  replaceWith(abs, () => {
    const r = spawnSync("mknod", args, { stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) throw new Error(`mknod failed: ${r.stderr?.toString().trim()}`);
  });
  return true;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
function major(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}
function minor(dev: number): number {
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}

export function applyAttrs(abs: Buffer, a: InodeAttr, hooks: NodeHooks): void {
  try {
    if (process.getuid?.() === 0) fs.lchownSync(abs, a.uid, a.gid);
    if (a.kind !== InodeKind.symlink) fs.chmodSync(abs, a.mode);
    fs.lutimesSync(abs, nsToSeconds(a.atimeNs), nsToSeconds(a.mtimeNs));
  } catch (err) {
    const e = wrapFsError(err, abs.toString(), "set attributes");
    hooks.onWarning?.({ path: abs.toString(), code: e.code, message: e.message });
  }
}

/**
 * Seconds as a double for utimes. A double near 2e9 s resolves about 240 ns and
 * libuv truncates to whole nanoseconds, so aim at the middle of the microsecond:
 * the restored time is then exact to the microsecond.
 */
function nsToSeconds(ns: bigint): number {
  return (Number(ns / 1000n) + 0.5) / 1e6;
}
