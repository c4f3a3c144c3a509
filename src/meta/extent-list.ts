/**
 * The `contents.extents` BLOB: a file's extents in file order, one unsigned LEB128
 * varint each. A sub-block extent is stored as the zigzag-coded difference from the
 * previous sub-block id of the list (the first from 0), times 2 (even values); a hole of
 * L bytes as 2L − 1 (odd values). A sub-block extent's length is its sub-block's length,
 * so it is not stored. Normative description: spec/FORMAT.md ("contents").
 */
import { assert, CorruptError } from "../errors.js";
import type { Extent, SubBlockId } from "../types.js";

/**
 * One decoded extent: a sub-block id (> 0), or the length of a hole as a negative number.
 * A plain number keeps decoding of huge files cheap.
 */
export type ExtentCode = number;

/** Longest varint accepted: 8 bytes hold 56 bits, more than any safe integer needs. */
const MAX_VARINT_BYTES = 8;
/** Largest hole a list can hold (2L − 1 must stay a safe integer). */
const MAX_HOLE = 2 ** 52;

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) + 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Encodes extents as a `contents.extents` BLOB (an empty list is an empty BLOB). */
export function encodeExtents(extents: readonly Extent[]): Buffer {
  const out: number[] = [];
  let prev = 0;
  for (const e of extents) {
    if (e.subBlock === null) {
      assert(Number.isSafeInteger(e.length) && e.length > 0 && e.length <= MAX_HOLE, "hole", {
        length: e.length,
      });
      pushVarint(out, 2 * e.length - 1);
      continue;
    }
    assert(Number.isSafeInteger(e.subBlock) && e.subBlock > 0, "sub-block id", { e });
    const d = e.subBlock - prev;
    pushVarint(out, 2 * (d >= 0 ? 2 * d : -2 * d - 1));
    prev = e.subBlock;
  }
  return Buffer.from(out);
}

/** Decodes a `contents.extents` BLOB; E_CORRUPT (naming `content`) if it is malformed. */
export function decodeExtents(blob: Uint8Array, content: number): ExtentCode[] {
  const codes: ExtentCode[] = [];
  let prev = 0;
  let pos = 0;
  while (pos < blob.length) {
    let v = 0;
    let scale = 1;
    const start = pos;
    for (;;) {
      const b = blob[pos++];
      if (b === undefined || pos - start > MAX_VARINT_BYTES) throw badList(content, start);
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(v)) throw badList(content, start);
    if (v % 2 === 1) {
      codes.push(-(v + 1) / 2);
      continue;
    }
    const z = v / 2;
    prev += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (prev < 1) throw badList(content, start);
    codes.push(prev);
  }
  return codes;
}

function badList(content: number, offset: number): CorruptError {
  return new CorruptError("E_CORRUPT", `content ${content}: malformed extent list`, {
    content,
    offset,
  });
}

/** The sub-block ids of a decoded list, in order, repeats kept. */
export function subBlocksOf(codes: readonly ExtentCode[]): SubBlockId[] {
  return codes.filter((c) => c > 0) as SubBlockId[];
}
