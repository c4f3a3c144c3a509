/**
 * What the scan phase of pack learns: the tree, every file's content as a list of
 * sub-block references, and the unique sub-blocks with where to read them again.
 * Unique sub-blocks are numbered in the order the walk met them (path order).
 *
 * Everything is held in flat columns (column.ts) and found again through open-addressing
 * tables over the hashes, so the cost is a few dozen bytes per file and about 190 per
 * unique sub-block, most of it the 128-byte similarity sketch (spec/MEMORY.md).
 */
import { assert } from "../errors.js";
import { HASH_BYTES } from "../types.js";
import { Column } from "./column.js";
import type { ScanResult } from "./scan-pool.js";
import type { WalkTable } from "./walk-table.js";

/** Index of a unique sub-block in PackIndex; -1 in an extent list marks a hole. */
export type UniqueIndex = number;

/** One content as the commit reads it: views into the index, valid until the next addFile. */
export interface PackContent {
  readonly hash: Buffer;
  readonly size: number;
  /** unique index per extent, -1 for a hole */
  readonly refs: Int32Array;
  /** length per extent */
  readonly lengths: Uint32Array;
}

/** Rows found again by their 32-byte hash: slots hold row + 1 (0 is empty). */
class HashSlots {
  #slots = new Uint32Array(1024);
  #used = 0;

  constructor(private readonly hashes: () => Buffer) {}

  /** The row whose hash equals `h` (bytes `at`..`at + 32` of `src`), or -1. */
  find(src: Uint8Array, at: number): number {
    const all = this.hashes();
    const mask = this.#slots.length - 1;
    for (let s = slotOf(src, at) & mask; ; s = (s + 1) & mask) {
      const row = this.#slots[s]!;
      if (row === 0) return -1;
      if (all.compare(src, at, at + HASH_BYTES, (row - 1) * HASH_BYTES, row * HASH_BYTES) === 0)
        return row - 1;
    }
  }

  /** Adds `row`, whose hash is already in the column. */
  add(row: number): void {
    if (2 * (this.#used + 1) > this.#slots.length) this.#grow();
    this.#place(row);
    this.#used++;
  }

  #place(row: number): void {
    const mask = this.#slots.length - 1;
    let s = slotOf(this.hashes(), row * HASH_BYTES) & mask;
    while (this.#slots[s] !== 0) s = (s + 1) & mask;
    this.#slots[s] = row + 1;
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    for (const r of old) if (r !== 0) this.#place(r - 1);
  }
}

function slotOf(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export class PackIndex {
  /** entry index of a later hard link → entry index of the first one */
  readonly hardLinkOf = new Map<number, number>();
  /** entry indices skipped with a warning */
  readonly skipped = new Set<number>();
  logicalBytes = 0;
  uniqueBytes = 0;
  /** unique sub-blocks so far */
  uniqueCount = 0;
  /** distinct contents so far */
  contentCount = 0;

  /** per entry: its content index, -1 for none (not a file, a later hard link, skipped) */
  readonly #contentOf: Int32Array;
  readonly #cHash: Column<Uint8Array>;
  readonly #cSize: Column<Float64Array>;
  /** end of each content's extents in #xRef / #xLen */
  readonly #cEnd: Column<Float64Array>;
  readonly #xRef: Column<Int32Array>;
  readonly #xLen: Column<Uint32Array>;
  #byFileHash: HashSlots | undefined = new HashSlots(() => Buffer.from(this.#cHash.a.buffer));

  readonly #uHash: Column<Uint8Array>;
  readonly #uLength: Column<Uint32Array>;
  readonly #uSketch: Column<Uint32Array>;
  readonly #uEntry: Column<Uint32Array>;
  readonly #uOffset: Column<Float64Array>;
  readonly #uLastUse: Column<Uint32Array>;
  /** 1 where the sub-block looks already compressed (codec/dense.ts) */
  readonly #uDense: Column<Uint8Array>;
  #byHash: HashSlots | undefined = new HashSlots(() => Buffer.from(this.#uHash.a.buffer));

  /**
   * `expect` sizes the columns up front (the walk knows the files and their sizes), so they
   * seldom grow by copying; room never written costs no resident memory.
   */
  constructor(
    readonly entries: WalkTable,
    readonly sketchWords: number,
    expect: { files: number; subBlocks: number } = { files: 1024, subBlocks: 1024 },
  ) {
    this.#contentOf = new Int32Array(entries.length).fill(-1);
    const f = Math.max(1024, expect.files);
    const u = Math.max(1024, expect.subBlocks);
    this.#cHash = new Column(new Uint8Array(f * HASH_BYTES));
    this.#cSize = new Column(new Float64Array(f));
    this.#cEnd = new Column(new Float64Array(f));
    this.#xRef = new Column(new Int32Array(u));
    this.#xLen = new Column(new Uint32Array(u));
    this.#uHash = new Column(new Uint8Array(u * HASH_BYTES));
    this.#uLength = new Column(new Uint32Array(u));
    this.#uSketch = new Column(new Uint32Array(u * sketchWords));
    this.#uEntry = new Column(new Uint32Array(u));
    this.#uOffset = new Column(new Float64Array(u));
    this.#uLastUse = new Column(new Uint32Array(u));
    this.#uDense = new Column(new Uint8Array(u));
  }

  /** Content index of entry `i`, -1 when it has none. */
  contentOf(i: number): number {
    return this.#contentOf[i]!;
  }

  /** Content `c`, as views into the index. */
  content(c: number): PackContent {
    const start = c === 0 ? 0 : this.#cEnd.a[c - 1]!;
    const end = this.#cEnd.a[c]!;
    return {
      hash: Buffer.from(this.#cHash.a.buffer, c * HASH_BYTES, HASH_BYTES),
      size: this.#cSize.a[c]!,
      refs: this.#xRef.a.subarray(start, end),
      lengths: this.#xLen.a.subarray(start, end),
    };
  }

  /** SHA-256 of unique sub-block `u` (a view). */
  uHash(u: UniqueIndex): Buffer {
    return Buffer.from(this.#uHash.a.buffer, u * HASH_BYTES, HASH_BYTES);
  }

  uLength(u: UniqueIndex): number {
    return this.#uLength.a[u]!;
  }

  /** Entry index and file offset where unique sub-block `u` can be read again. */
  uEntry(u: UniqueIndex): number {
    return this.#uEntry.a[u]!;
  }

  uOffset(u: UniqueIndex): number {
    return this.#uOffset.a[u]!;
  }

  /** True when unique sub-block `u` looks already compressed (codec/dense.ts). */
  uDense(u: UniqueIndex): boolean {
    return this.#uDense.a[u] === 1;
  }

  /** The planner's view of the unique sub-blocks: flat columns, uniqueCount rows each. */
  planColumns() {
    const n = this.uniqueCount;
    return {
      lengths: this.#uLength.a.subarray(0, n),
      sketches: this.#uSketch.a.subarray(0, n * this.sketchWords),
      entries: this.#uEntry.a.subarray(0, n),
      offsets: this.#uOffset.a.subarray(0, n),
      /** entry index of the last file (walk order) that uses each unique sub-block */
      lastUse: this.#uLastUse.a.subarray(0, n),
      dense: this.#uDense.a.subarray(0, n),
    };
  }

  /**
   * Frees what only the scan and the plan need (the sketches, the largest part, the last
   * uses and the hash tables) once the plan is made; addFile may not be called after.
   */
  dropPlanState(): void {
    this.dropScanState();
    this.dropSketches();
    this.#uLastUse.a = new Uint32Array(0);
  }

  /** Frees the hash tables, which only the scan uses; addFile may not be called after. */
  dropScanState(): void {
    this.#byHash = undefined;
    this.#byFileHash = undefined;
  }

  /** Frees the sketches once the plan has its candidate pairs (they are the largest part). */
  dropSketches(): void {
    this.#uSketch.a = new Uint32Array(0);
  }

  /** Records one scanned file, deduplicating its sub-blocks and the file as a whole. */
  addFile(entry: number, r: ScanResult): void {
    this.logicalBytes += r.size;
    const byFileHash = this.#byFileHash;
    assert(byFileHash !== undefined, "addFile after dropPlanState");
    const known = byFileHash.find(r.fileHash, 0);
    if (known >= 0) {
      this.#contentOf[entry] = known;
      const { refs } = this.content(known);
      for (const u of refs) if (u >= 0) this.#uLastUse.a[u] = entry;
      return;
    }
    const n = r.lengths.length;
    const c = this.contentCount++;
    const start = c === 0 ? 0 : this.#cEnd.a[c - 1]!;
    this.#xRef.ensure(start + n);
    this.#xLen.ensure(start + n);
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const len = r.lengths[i]!;
      this.#xRef.a[start + i] = r.zero[i] ? -1 : this.#addSubBlock(r, i, entry, offset);
      this.#xLen.a[start + i] = len;
      offset += len;
    }
    this.#cEnd.put(c, start + n);
    this.#cSize.put(c, r.size);
    this.#cHash.ensure((c + 1) * HASH_BYTES);
    this.#cHash.a.set(r.fileHash, c * HASH_BYTES);
    byFileHash.add(c);
    this.#contentOf[entry] = c;
  }

  #addSubBlock(r: ScanResult, i: number, entry: number, offset: number): UniqueIndex {
    const byHash = this.#byHash!;
    const seen = byHash.find(r.hashes, i * HASH_BYTES);
    if (seen >= 0) {
      this.#uLastUse.a[seen] = entry;
      return seen;
    }
    const u = this.uniqueCount++;
    const w = this.sketchWords;
    this.#uHash.ensure((u + 1) * HASH_BYTES);
    this.#uHash.a.set(r.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), u * HASH_BYTES);
    byHash.add(u);
    this.#uLength.put(u, r.lengths[i]!);
    this.#uSketch.ensure((u + 1) * w);
    this.#uSketch.a.set(r.sketches.subarray(i * w, (i + 1) * w), u * w);
    this.#uEntry.put(u, entry);
    this.#uOffset.put(u, offset);
    this.#uLastUse.put(u, entry);
    this.#uDense.put(u, r.dense[i]!);
    this.uniqueBytes += r.lengths[i]!;
    return u;
  }
}
