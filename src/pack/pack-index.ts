/**
 * What the scan phase of pack learns: the tree, every file's content as a list of
 * sub-block references, and the unique sub-blocks with where to read them again.
 * Unique sub-blocks are numbered in the order the walk met them (path order).
 */
import type { ScanResult } from "./scan-pool.js";
import type { WalkEntry } from "./walker.js";

/** Index of a unique sub-block in PackIndex; -1 in an extent list marks a hole. */
export type UniqueIndex = number;

export interface PackContent {
  readonly hash: Buffer;
  readonly size: number;
  /** unique index per extent, -1 for a hole */
  readonly refs: Int32Array;
  /** length per extent */
  readonly lengths: Uint32Array;
}

export interface PackFile {
  /** index in `entries` */
  readonly entry: number;
  /** index in `contents` (an empty file has a content with no extents) */
  readonly content: number;
}

export class PackIndex {
  readonly contents: PackContent[] = [];
  /** entry index of a regular file → its PackFile (first of a hard-link group only) */
  readonly files = new Map<number, PackFile>();
  /** entry index of a later hard link → entry index of the first one */
  readonly hardLinkOf = new Map<number, number>();
  /** entry indices skipped with a warning */
  readonly skipped = new Set<number>();

  readonly uHash: Buffer[] = [];
  readonly uLength: number[] = [];
  readonly uSketch: Uint32Array[] = [];
  /** entry index and file offset where each unique sub-block can be read again */
  readonly uEntry: number[] = [];
  readonly uOffset: number[] = [];
  /** entry index of the last file (walk order) that uses each unique sub-block */
  readonly uLastUse: number[] = [];

  private readonly byHash = new Map<string, UniqueIndex>();
  private readonly byFileHash = new Map<string, number>();
  logicalBytes = 0;
  uniqueBytes = 0;

  constructor(readonly entries: readonly WalkEntry[]) {}

  /** Records one scanned file, deduplicating its sub-blocks and the file as a whole. */
  addFile(entry: number, r: ScanResult, sketchWords: number): void {
    this.logicalBytes += r.size;
    const fileKey = Buffer.from(r.fileHash).toString("latin1");
    const known = this.byFileHash.get(fileKey);
    if (known !== undefined) {
      this.files.set(entry, { entry, content: known });
      for (const u of this.contents[known]!.refs) if (u >= 0) this.uLastUse[u] = entry;
      return;
    }
    const n = r.lengths.length;
    const refs = new Int32Array(n);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const len = r.lengths[i]!;
      refs[i] = r.zero[i] ? -1 : this.addSubBlock(r, i, entry, offset, sketchWords);
      offset += len;
    }
    const content = this.contents.length;
    this.contents.push({ hash: Buffer.from(r.fileHash), size: r.size, refs, lengths: r.lengths });
    this.byFileHash.set(fileKey, content);
    this.files.set(entry, { entry, content });
  }

  private addSubBlock(
    r: ScanResult,
    i: number,
    entry: number,
    offset: number,
    words: number,
  ): UniqueIndex {
    const hash = Buffer.from(r.hashes.buffer, r.hashes.byteOffset + i * 32, 32);
    const key = hash.toString("latin1");
    const seen = this.byHash.get(key);
    if (seen !== undefined) {
      this.uLastUse[seen] = entry;
      return seen;
    }
    const u = this.uHash.length;
    this.byHash.set(key, u);
    this.uHash.push(Buffer.from(hash));
    this.uLength.push(r.lengths[i]!);
    this.uSketch.push(r.sketches.slice(i * words, (i + 1) * words));
    this.uEntry.push(entry);
    this.uOffset.push(offset);
    this.uLastUse.push(entry);
    this.uniqueBytes += r.lengths[i]!;
    return u;
  }
}
