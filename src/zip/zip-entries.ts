/**
 * A user's zip, read with yauzl: the source side of `pack <in.zip>`. Opening it
 * reads and checks the whole central directory and every local header before any
 * data is inflated (names, duplicates, encryption, methods, ratios, overlaps); each
 * entry's data is then a stream that stops at the declared size and checks the
 * size and CRC-32 at its end. Only this folder imports yauzl.
 *
 * @example
 * const zip = await ZipEntries.open("in.zip");
 * try {
 *   for await (const { info, open } of zip) if (info.kind === "file") (await open()).pipe(sink);
 * } finally { zip.close(); }
 */
import { Readable } from "node:stream";
import * as zlib from "node:zlib";
import type { Entry, LocalFileHeader, ZipFile } from "yauzl";
import yauzl from "yauzl";
import { CorruptError, EngineError, UnsupportedError, wrapFsError } from "../errors.js";
import { describeEntry, type ZipEntryInfo } from "./zip-entry-info.js";
import { show } from "./zip-name.js";
import {
  checkNames,
  checkOverlaps,
  checkSizes,
  ZIP_LIMITS_DEFAULT,
  type ZipLimits,
  type ZipSpan,
} from "./zip-tree-check.js";

export type { ZipEntryInfo, ZipEntryKind } from "./zip-entry-info.js";
export { ZIP_LIMITS_DEFAULT, type ZipLimits } from "./zip-tree-check.js";

/** One entry as the iterator yields it: its description and a way to read its data. */
export interface ZipEntryData {
  readonly info: ZipEntryInfo;
  /** The entry's bytes, checked (see {@link ZipEntries.openEntry}). */
  open(): Promise<Readable>;
}

export class ZipEntries implements AsyncIterable<ZipEntryData> {
  private closed = false;

  private constructor(
    private readonly zip: ZipFile,
    /** the zip's path, for messages */
    readonly location: string,
    /** every entry, in central-directory order, validated */
    readonly entries: readonly ZipEntryInfo[],
    private readonly raw: readonly Entry[],
  ) {}

  /**
   * Opens and validates `zipPath`. Rejects with E_ZIP_CORRUPT (damaged or truncated),
   * E_PATH_ESCAPE, E_ZIP_DUPLICATE, E_ZIP_BOMB, E_ZIP_SIZE_MISMATCH (a stored entry whose
   * two sizes differ) or E_UNSUPPORTED (encrypted, unknown method, special file).
   */
  static async open(zipPath: string, limits: Partial<ZipLimits> = {}): Promise<ZipEntries> {
    const zip = await openZip(zipPath);
    try {
      const raw = await readCentralDirectory(zip, zipPath);
      const entries = raw.map((e, i) => describeEntry(e, i, zipPath));
      checkNames(entries, zipPath);
      checkSizes(entries, { ...ZIP_LIMITS_DEFAULT, ...limits }, zipPath);
      checkOverlaps(await spansOf(zip, raw, entries, zipPath), zipPath);
      return new ZipEntries(zip, zipPath, entries, raw);
    } catch (err) {
      zip.close();
      throw err;
    }
  }

  /**
   * The data of one entry (a file's content, a symlink's target). The stream errors with
   * E_ZIP_SIZE_MISMATCH as soon as it would pass the declared size or when it ends short,
   * E_ZIP_CORRUPT on a CRC mismatch or a damaged deflate stream.
   */
  async openEntry(info: ZipEntryInfo): Promise<Readable> {
    const raw = this.raw[info.index];
    if (!raw) throw new CorruptError("E_ZIP_CORRUPT", `${this.location}: no entry ${info.index}`);
    let stream: Readable;
    try {
      stream = await this.zip.openReadStreamPromise(raw);
    } catch (err) {
      throw zipError(err, this.location, info.rawName);
    }
    return Readable.from(verified(stream, info, this.location), { objectMode: false });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ZipEntryData> {
    for (const info of this.entries) yield { info, open: () => this.openEntry(info) };
  }

  /** Closes the file; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.zip.close();
  }
}

function openZip(zipPath: string): Promise<ZipFile> {
  const opts = {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: false,
    // the same checks, made here so errors carry our codes and the entry's name:
    // stored sizes in describeEntry, inflated length in verified()
    validateEntrySizes: false,
    strictFileNames: true,
  };
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, opts, (err, zip) => {
      if (err || !zip) reject(zipError(err, zipPath));
      else resolve(zip);
    });
  });
}

function readCentralDirectory(zip: ZipFile, zipPath: string): Promise<Entry[]> {
  const out: Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on("entry", (e: Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.on("end", () => resolve(out));
    zip.on("error", (err: unknown) => reject(zipError(err, zipPath)));
    zip.readEntry();
  });
}

/** Reads every local header: it must exist, match the central name, and hold its data. */
async function spansOf(
  zip: ZipFile,
  raw: readonly Entry[],
  entries: readonly ZipEntryInfo[],
  zipPath: string,
): Promise<ZipSpan[]> {
  const spans: ZipSpan[] = [];
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i]!;
    const info = entries[i]!;
    let local: LocalFileHeader;
    try {
      local = await zip.readLocalFileHeaderPromise(e);
    } catch (err) {
      throw zipError(err, zipPath, info.rawName);
    }
    if (!local.fileName.equals(e.fileNameRaw)) {
      throw new CorruptError(
        "E_ZIP_CORRUPT",
        `${zipPath}: entry ${show(info.rawName)}: local header names ${show(local.fileName)}`,
        { zip: zipPath, entry: info.rawName.toString() },
      );
    }
    spans.push({
      info,
      start: e.relativeOffsetOfLocalHeader,
      end: local.fileDataStart + e.compressedSize,
    });
  }
  return spans;
}

async function* verified(
  stream: Readable,
  info: ZipEntryInfo,
  zipPath: string,
): AsyncGenerator<Buffer> {
  let n = 0;
  let crc = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > info.size) throw sizeMismatch(zipPath, info, `more than ${info.size}`);
      crc = zlib.crc32(chunk, crc);
      yield chunk;
    }
  } catch (err) {
    throw zipError(err, zipPath, info.rawName);
  }
  if (n !== info.size) throw sizeMismatch(zipPath, info, `only ${n}`);
  if (crc >>> 0 !== info.crc32 >>> 0) {
    throw new CorruptError(
      "E_ZIP_CORRUPT",
      `${zipPath}: entry ${show(info.rawName)}: CRC-32 mismatch`,
      {
        zip: zipPath,
        entry: info.rawName.toString(),
      },
    );
  }
}

function sizeMismatch(zipPath: string, info: ZipEntryInfo, got: string): CorruptError {
  return new CorruptError(
    "E_ZIP_SIZE_MISMATCH",
    `${zipPath}: entry ${show(info.rawName)} inflates to ${got} bytes, the directory says ${info.size}`,
    { zip: zipPath, entry: info.rawName.toString(), size: info.size },
  );
}

/** Turns a yauzl, zlib or fs error into an EngineError naming the zip (and entry). */
export function zipError(err: unknown, zipPath: string, entry?: Buffer): EngineError {
  if (err instanceof EngineError) return err;
  const sys = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof sys === "string" && /^E[A-Z]+$/.test(sys))
    return wrapFsError(err, zipPath, "read zip");
  const msg = err instanceof Error ? err.message : String(err);
  const where = entry ? `${zipPath}: entry ${show(entry)}` : zipPath;
  const data = { zip: zipPath, ...(entry ? { entry: entry.toString() } : {}) };
  if (/size mismatch|too many bytes|not enough bytes/.test(msg)) {
    return new CorruptError(
      "E_ZIP_SIZE_MISMATCH",
      `${where}: declared sizes lie (${msg})`,
      data,
      err,
    );
  }
  if (/encrypt|unsupported compression/.test(msg)) {
    return new UnsupportedError("E_UNSUPPORTED", `${where}: ${msg}`, data, err);
  }
  return new CorruptError("E_ZIP_CORRUPT", `${where}: damaged or not a zip (${msg})`, data, err);
}
