/**
 * One central-directory record of a user's zip, checked and described: what kind
 * of entry it is, its permission bits and time, its declared sizes. Everything here
 * is decided from the central directory alone, before any data is read.
 */
import type { Entry } from "yauzl";
import { CorruptError, UnsupportedError } from "../errors.js";
import { entryNameBytes, normalizeZipName, show, ZIP_UNIX_HOSTS } from "./zip-name.js";

export type ZipEntryKind = "file" | "dir" | "symlink";

/** A validated entry of a user's zip. */
export interface ZipEntryInfo {
  /** position in the central directory */
  readonly index: number;
  /** safe relative path, '/'-separated (empty for an explicit root entry such as "./") */
  readonly path: Buffer;
  /** the entry's name as stored, for messages */
  readonly rawName: Buffer;
  readonly kind: ZipEntryKind;
  /** permission bits (0o1777 at most: set-id bits are dropped, as unzip does) */
  readonly mode: number;
  /** modification time, ms since the epoch (0x5455 extended timestamp, else DOS local time) */
  readonly mtimeMs: number;
  /** declared uncompressed size */
  readonly size: number;
  /** declared compressed size */
  readonly compressedSize: number;
  /** declared CRC-32 of the uncompressed data */
  readonly crc32: number;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** Longest symlink target accepted (PATH_MAX on Linux). */
export const ZIP_SYMLINK_MAX_BYTES = 4096;
const DOS_DIR_ATTR = 0x10;
const FLAG_ENCRYPTED = 0x1;
const FLAG_STRONG_ENCRYPTION = 0x40;

/** Checks one central-directory record; throws the EngineError the record deserves. */
export function describeEntry(e: Entry, index: number, zip: string): ZipEntryInfo {
  const rawName = e.fileNameRaw;
  const where = { zip, entry: rawName.toString(), index };
  const host = e.versionMadeBy >> 8;
  if (e.generalPurposeBitFlag & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
    throw new UnsupportedError(
      "E_UNSUPPORTED",
      `${zip}: entry ${show(rawName)} is encrypted`,
      where,
    );
  }
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
    throw new UnsupportedError(
      "E_UNSUPPORTED",
      `${zip}: entry ${show(rawName)} uses compression method ${e.compressionMethod} (only stored and deflated are read)`,
      where,
    );
  }
  if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize) {
    throw new CorruptError(
      "E_ZIP_SIZE_MISMATCH",
      `${zip}: stored entry ${show(rawName)} declares ${e.compressedSize} bytes stored but ${e.uncompressedSize} bytes of content`,
      where,
    );
  }
  const name = normalizeZipName(
    entryNameBytes(rawName, e.generalPurposeBitFlag, e.extraFields),
    host,
    zip,
  );
  const unixMode = ZIP_UNIX_HOSTS.has(host) ? e.externalFileAttributes >>> 16 : 0;
  const kind = kindOf(name.isDir, unixMode, e.externalFileAttributes, zip, rawName);
  if (kind === "symlink" && e.uncompressedSize > ZIP_SYMLINK_MAX_BYTES) {
    throw new CorruptError(
      "E_ZIP_CORRUPT",
      `${zip}: symlink ${show(rawName)} has a ${e.uncompressedSize}-byte target (at most ${ZIP_SYMLINK_MAX_BYTES})`,
      where,
    );
  }
  return {
    index,
    path: name.path,
    rawName,
    kind,
    mode: modeOf(kind, unixMode),
    mtimeMs: e.getLastModDate().getTime(),
    size: e.uncompressedSize,
    compressedSize: e.compressedSize,
    crc32: e.crc32,
  };
}

function kindOf(
  slash: boolean,
  unixMode: number,
  attrs: number,
  zip: string,
  rawName: Buffer,
): ZipEntryKind {
  const type = unixMode & S_IFMT;
  if (slash || type === S_IFDIR) return "dir";
  if (type === S_IFLNK) return "symlink";
  if (type === 0) return attrs & DOS_DIR_ATTR ? "dir" : "file";
  if (type === S_IFREG) return "file";
  throw new UnsupportedError(
    "E_UNSUPPORTED",
    `${zip}: entry ${show(rawName)} is a special file (mode 0o${unixMode.toString(8)})`,
    { zip, entry: rawName.toString() },
  );
}

function modeOf(kind: ZipEntryKind, unixMode: number): number {
  if (kind === "symlink") return 0o777;
  if ((unixMode & 0o7777) === 0 && (unixMode & S_IFMT) === 0) return kind === "dir" ? 0o755 : 0o644;
  return unixMode & 0o1777;
}
