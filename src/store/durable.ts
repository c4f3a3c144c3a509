/** Small synchronous helpers for durable writes: fsync of files and directories. */
import * as fs from "node:fs";
import * as path from "node:path";
import { wrapFsError } from "../errors.js";

/** fsync a directory so creates and renames inside it survive a crash. */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync one file by path. */
export function fsyncFileSync(file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to a temporary sibling, syncs it, renames it over `file`, syncs the directory. */
export function writeFileDurably(file: string, data: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, "w", 0o644);
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    fsyncDirSync(path.dirname(file));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw wrapFsError(err, file, "write");
  }
}
