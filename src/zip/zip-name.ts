/**
 * Names of entries in a user's zip: which bytes name the entry, and the check that
 * turns a name into a safe relative path. Hostile names (`..`, absolute paths,
 * drive letters, backslash tricks, NUL) are refused with E_PATH_ESCAPE.
 */
import * as zlib from "node:zlib";
import type { ExtraField } from "yauzl";
import { UsageError } from "../errors.js";

/** "version made by" host ids whose external attributes carry a unix mode (unix, OS X). */
export const ZIP_UNIX_HOSTS: ReadonlySet<number> = new Set([3, 19]);

/** Longest name component a file system accepts (bytes). */
const NAME_MAX_BYTES = 255;
const FLAG_UTF8 = 0x800;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;

/** A name checked by {@link normalizeZipName}. */
export interface ZipPath {
  /** '/'-separated relative path without empty or "." components; empty for the root */
  readonly path: Buffer;
  /** true when the name ended with '/' */
  readonly isDir: boolean;
}

/**
 * The bytes that name an entry: the Info-ZIP Unicode Path extra field (0x7075) when its
 * CRC matches the raw name, else the raw name. Raw names are kept as bytes whether or not
 * the UTF-8 flag is set (what Info-ZIP unzip does on unix); no CP437 conversion.
 */
export function entryNameBytes(raw: Buffer, flags: number, extra: readonly ExtraField[]): Buffer {
  if (flags & FLAG_UTF8) return raw;
  for (const f of extra) {
    if (f.id !== 0x7075 || f.data.length < 6 || f.data[0] !== 1) continue;
    if (f.data.readUInt32LE(1) === zlib.crc32(raw)) return f.data.subarray(5);
  }
  return raw;
}

/**
 * Checks and normalises an entry name. On a non-unix host a backslash is a separator;
 * on unix it is part of a name, but a component that a backslash would split into
 * `..` is still refused (it escapes on the next system that unpacks the tree).
 * UsageError E_PATH_ESCAPE (or E_NAME_TOO_LONG) naming the zip and the entry.
 */
export function normalizeZipName(name: Buffer, host: number, zip: string): ZipPath {
  const text = ZIP_UNIX_HOSTS.has(host) ? name : swapBackslashes(name);
  const refuse = (why: string) => {
    throw new UsageError("E_PATH_ESCAPE", `${zip}: entry ${show(name)}: ${why}`, {
      zip,
      entry: name.toString(),
    });
  };
  if (text.includes(0)) refuse("NUL byte in the name");
  if (text[0] === SLASH || text[0] === BACKSLASH) refuse("absolute path");
  if (/^[A-Za-z]:/.test(text.toString("latin1"))) refuse("drive letter");
  const parts: Buffer[] = [];
  for (const part of splitOn(text, SLASH)) {
    const latin = part.toString("latin1");
    if (latin === "" || latin === ".") continue;
    if (latin === "..") refuse("'..' component");
    if (latin.split("\\").includes("..")) refuse("'..' hidden behind a backslash");
    if (part.length > NAME_MAX_BYTES) {
      throw new UsageError("E_NAME_TOO_LONG", `${zip}: entry ${show(name)}: component too long`, {
        zip,
        entry: name.toString(),
      });
    }
    parts.push(part);
  }
  const isDir = text[text.length - 1] === SLASH;
  if (parts.length === 0 && !isDir) refuse("a file may not replace the root");
  return { path: joinParts(parts), isDir };
}

/** A name for messages: JSON-quoted, invalid UTF-8 shown as replacement characters. */
export function show(name: Buffer): string {
  return JSON.stringify(name.toString());
}

function swapBackslashes(b: Buffer): Buffer {
  if (!b.includes(BACKSLASH)) return b;
  const out = Buffer.from(b);
  for (let i = 0; i < out.length; i++) if (out[i] === BACKSLASH) out[i] = SLASH;
  return out;
}

function splitOn(b: Buffer, sep: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === sep) {
      out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

function joinParts(parts: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from([SLASH]));
    out.push(p);
  });
  return Buffer.concat(out);
}
