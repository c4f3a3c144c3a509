/**
 * Writes a zip archive with yazl: every entry STORED (its bytes are already
 * compressed), so a reader serves any byte range of an entry straight from the
 * archive file. yazl switches to zip64 records by itself when an offset or size
 * needs them; `forceZip64` asks for them always (tests use it).
 */
import * as fs from "node:fs";
import { ZipFile } from "yazl";
import { wrapFsError } from "../errors.js";

/** One entry to write: the bytes of a local file, or a buffer. */
export type ZipInput =
  | { readonly key: string; readonly file: string }
  | { readonly key: string; readonly data: Buffer };

/** Options of writeZipArchive. */
export interface ZipWriteOptions {
  /** write zip64 records even when not needed; default false */
  forceZip64?: boolean;
  /** modification time stamped on every entry; default: now */
  mtime?: Date;
}

/**
 * Writes `inputs`, in order, as a new zip file at `out` (created exclusively, synced
 * before the promise resolves). Answers the archive's length. On failure `out` may
 * hold a partial file: the caller writes to a temporary name and removes it.
 */
export async function writeZipArchive(
  out: string,
  inputs: readonly ZipInput[],
  opts: ZipWriteOptions = {},
): Promise<number> {
  let fd: number;
  try {
    fd = fs.openSync(out, "wx", 0o644);
  } catch (err) {
    throw wrapFsError(err, out, "create archive");
  }
  try {
    await pipeZip(fd, inputs, opts);
    fs.fsyncSync(fd);
    return fs.fstatSync(fd).size;
  } catch (err) {
    throw wrapFsError(err, out, "write archive");
  } finally {
    fs.closeSync(fd);
  }
}

function pipeZip(fd: number, inputs: readonly ZipInput[], opts: ZipWriteOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const zip = new ZipFile();
    const sink = fs.createWriteStream("", { fd, autoClose: false });
    zip.on("error", reject);
    sink.on("error", reject);
    sink.on("finish", () => resolve());
    zip.outputStream.on("error", reject);
    zip.outputStream.pipe(sink);
    const entry = {
      compress: false,
      mode: 0o100644,
      mtime: opts.mtime ?? new Date(),
      forceZip64Format: opts.forceZip64 === true,
    };
    for (const input of inputs) {
      if ("file" in input) zip.addFile(input.file, input.key, entry);
      else zip.addBuffer(input.data, input.key, entry);
    }
    zip.end({ forceZip64Format: opts.forceZip64 === true, comment: "" });
  });
}
