/**
 * Writes an ordinary zip of a file tree with yazl, for people and other tools (the
 * export side of `extract --zip`): files deflated, unix modes in the external
 * attributes, modification times (DOS time plus the 0x5455 extended timestamp),
 * symlinks as S_IFLNK entries whose content is the target, directories as entries
 * of their own. Entries are written in the order they are added; a file's bytes are
 * pulled from its stream only when yazl reaches it, so memory stays bounded.
 */
import * as fs from "node:fs";
import type { Readable } from "node:stream";
import { ZipFile } from "yazl";
import { wrapFsError } from "../errors.js";

/** Attributes of one entry. */
export interface ZipTreeAttrs {
  /** permission bits (0o7777) */
  readonly mode: number;
  readonly mtime: Date;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export class ZipTreeWriter {
  private readonly zip = new ZipFile();
  private readonly done: Promise<void>;
  private failure: unknown;
  private readonly sink: fs.WriteStream;

  /** Creates `out` exclusively (it must not exist) and starts writing into it. */
  constructor(readonly out: string) {
    const sink = fs.createWriteStream(out, { flags: "wx", mode: 0o644 });
    this.sink = sink;
    this.done = new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        this.failure ??= err;
        reject(wrapFsError(err, out, "write zip"));
      };
      this.zip.on("error", fail);
      sink.on("error", fail);
      sink.on("close", () => (this.failure ? undefined : resolve()));
    });
    this.done.catch(() => {}); // observed by finish()
    this.zip.outputStream.pipe(sink);
  }

  /** A directory entry ("name/"); `name` is '/'-separated and relative. */
  addDirectory(name: string, a: ZipTreeAttrs): void {
    this.zip.addEmptyDirectory(name, { mode: S_IFDIR | (a.mode & 0o7777), mtime: a.mtime });
  }

  /** A symlink: S_IFLNK mode, the target as the (stored) content. */
  addSymlink(name: string, target: Buffer, a: ZipTreeAttrs): void {
    this.zip.addBuffer(target, name, { mode: S_IFLNK | 0o777, mtime: a.mtime, compress: false });
  }

  /** A regular file of `size` bytes whose content `open` streams when its turn comes. */
  addFile(name: string, size: number, a: ZipTreeAttrs, open: () => Readable): void {
    this.zip.addReadStreamLazy(
      name,
      { mode: S_IFREG | (a.mode & 0o7777), mtime: a.mtime, size, compress: true },
      (cb: (err: Error | null, stream: Readable) => void) => {
        const s = open();
        s.on("error", (err) => this.zip.emit("error", err));
        cb(null, s);
      },
    );
  }

  /** Ends the zip, waits until it is written, syncs it; answers its length in bytes. */
  async finish(): Promise<number> {
    this.zip.end();
    await this.done;
    const fd = fs.openSync(this.out, "r");
    try {
      fs.fsyncSync(fd);
      return fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Stops writing after a failure; the caller removes the partial file. */
  async abort(): Promise<void> {
    const output = this.zip.outputStream as Readable;
    output.unpipe();
    output.destroy();
    this.sink.destroy();
    await this.done.catch(() => {});
  }
}
