import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CodecName } from "../../src/codec/codec.js";
import { CodecPool } from "../../src/codec/codec-pool.js";
import {
  CorruptError,
  type EngineError,
  type ErrorCode,
  FormatError,
  isCode,
} from "../../src/errors.js";
import { hashSubBlock } from "../../src/hash/sub-block-hash.js";
import {
  decodeHeader,
  encodeHeader,
  entryOffsets,
  headerLength,
  inflateSuperChunk,
  SUPERCHUNK_PREFIX_BYTES,
  SuperChunkBuilder,
} from "../../src/superchunk/index.js";
import { computeHeaderCrc, FIELD } from "../../src/superchunk/superchunk-layout.js";
import { FORMAT_VERSION, KIB, type SubBlockHash } from "../../src/types.js";

const pool = new CodecPool({ threads: 2 });
const where = { superChunkId: 42, path: "sc/000042" };

/** Compressible sub-blocks of 1..40 KiB, deterministic. */
function sampleBlocks(count: number, seed = 1): Buffer[] {
  const blocks: Buffer[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `export declare function f${x % 97}(a: string, b: number): Promise<void>;\n`;
    blocks.push(Buffer.from(line.repeat(1 + (x % 600))).subarray(0, 1 + (x % (40 * KIB))));
  }
  return blocks;
}

async function build(blocks: Buffer[], codec: CodecName = "zstd", level = 3) {
  const b = new SuperChunkBuilder({ targetBytes: 4 * 1024 * KIB, codec, level, pool });
  const offsets = blocks.map((data) => b.add(hashSubBlock(data), data));
  return { ...(await b.finalize()), offsets, builder: b };
}

/** Runs `fn` and checks it throws (or rejects with) an EngineError with `code`. */
async function rejects(fn: () => unknown, code: ErrorCode): Promise<EngineError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return err as EngineError;
  }
  return assert.unreachable(`expected ${code}`) as never;
}

/** A copy of `bytes` with one byte flipped. */
function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at]! ^= 0x5a;
  return copy;
}

/** A copy of `bytes` with the header CRC recomputed after an edit. */
function resealed(bytes: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  const length = headerLength(copy);
  edit(copy);
  copy.writeUInt32LE(computeHeaderCrc(copy, length), FIELD.headerCrc);
  return copy;
}

test("superchunk - round trip with every header field", async () => {
  const blocks = sampleBlocks(60);
  const { bytes, header, offsets } = await build(blocks);
  const raw = Buffer.concat(blocks);
  assert.is(header.version, FORMAT_VERSION);
  assert.is(header.codec, "zstd");
  assert.is(header.rawBytes, raw.length);
  assert.is(header.headerBytes, SUPERCHUNK_PREFIX_BYTES + 36 * blocks.length);
  assert.is(header.storedBytes, bytes.length - header.headerBytes);
  assert.ok(header.storedBytes < header.rawBytes / 4, "compressed");
  assert.is(header.rawCrc, crc32(raw));
  assert.is(header.storedCrc, crc32(bytes.subarray(header.headerBytes)));
  assert.is(bytes.subarray(0, 4).toString("latin1"), "SCHK");
  assert.is(headerLength(bytes.subarray(0, SUPERCHUNK_PREFIX_BYTES)), header.headerBytes);
  assert.equal(decodeHeader(bytes.subarray(0, header.headerBytes)), header);

  const { raw: back, header: again } = await inflateSuperChunk(bytes, pool, where);
  assert.ok(back.equals(raw));
  assert.equal(again, header);
  const starts = entryOffsets(header);
  assert.is(starts.length, blocks.length + 1);
  assert.is(starts[blocks.length], raw.length);
  blocks.forEach((data, i) => {
    assert.is(starts[i], offsets[i]);
    assert.is(header.entries[i]!.length, data.length);
    assert.ok(header.entries[i]!.hash.equals(hashSubBlock(data)));
    assert.ok(back.subarray(starts[i], starts[i + 1]).equals(data), `entry ${i}`);
  });
});

test("superchunk - every codec, and none when compression does not help", async () => {
  const blocks = sampleBlocks(20, 5);
  for (const [codec, level] of [
    ["xz", 6],
    ["lz4", 0],
    ["none", 0],
  ] as const) {
    const { bytes, header } = await build(blocks, codec, level);
    assert.is(header.codec, codec);
    assert.ok((await inflateSuperChunk(bytes, pool)).raw.equals(Buffer.concat(blocks)), codec);
  }
  const noise = [randomBytes(100 * KIB), randomBytes(3000)];
  const { bytes, header } = await build(noise, "zstd", 19);
  assert.is(header.codec, "none");
  assert.is(header.storedBytes, header.rawBytes);
  assert.ok((await inflateSuperChunk(bytes, pool)).raw.equals(Buffer.concat(noise)));
});

test("superchunk - builder fits, copies, and stays broken after an error", async () => {
  const b = new SuperChunkBuilder({ targetBytes: 100 * KIB, codec: "zstd", level: 3, pool });
  assert.ok(b.fits(500 * KIB), "anything fits while empty");
  const data = Buffer.alloc(60 * KIB, 1);
  assert.is(b.add(hashSubBlock(data), data), 0);
  data.fill(2); // the builder copied it
  assert.ok(b.fits(40 * KIB));
  assert.not.ok(b.fits(40 * KIB + 1));
  assert.is(b.rawBytes, 60 * KIB);
  assert.is(b.count, 1);
  const err = await rejects(() => b.add(hashSubBlock(data), data), "E_USAGE");
  try {
    b.fits(1);
    assert.unreachable("a broken builder must throw");
  } catch (again) {
    assert.is(again, err);
  }
  await rejects(() => b.finalize(), "E_USAGE");
  await rejects(
    () => new SuperChunkBuilder({ targetBytes: 4096, codec: "zstd", level: 0, pool }),
    "E_USAGE",
  );
  const empty = new SuperChunkBuilder({ targetBytes: 4096, codec: "lz4", level: 0, pool });
  await rejects(() => empty.finalize(), "E_USAGE");
});

test("superchunk - a builder adopts a laid-out payload: the same file, nothing copied", async () => {
  const blocks = sampleBlocks(40, 7);
  const added = await build(blocks);
  const payload = Buffer.concat(blocks);
  const b = new SuperChunkBuilder({ targetBytes: payload.length, codec: "zstd", level: 3, pool });
  b.adopt(
    payload,
    blocks.map((d) => ({ hash: hashSubBlock(d), length: d.length })),
  );
  assert.is(b.rawBytes, payload.length);
  assert.is(b.count, blocks.length);
  const adopted = await b.finalize();
  assert.ok(adopted.bytes.equals(added.bytes), "same file bytes as sub-block by sub-block");
  // entries that do not cover the payload exactly, or a builder already holding one
  const entries = blocks.map((d) => ({ hash: hashSubBlock(d), length: d.length }));
  const short = new SuperChunkBuilder({ targetBytes: 4096, codec: "zstd", level: 3, pool });
  await rejects(() => short.adopt(payload, entries.slice(1)), "E_USAGE");
  // an entry with a bad hash, past good ones: refused before any is taken
  const bad = entries.map((e, i) => (i === 5 ? { ...e, hash: e.hash.subarray(1) } : e));
  await rejects(() => short.adopt(payload, bad as typeof entries), "E_USAGE");
  assert.is(short.count, 0, "a refused payload leaves the builder empty");
  const used = new SuperChunkBuilder({ targetBytes: 4096, codec: "zstd", level: 3, pool });
  used.add(entries[0]!.hash, blocks[0]!);
  await rejects(() => used.adopt(payload, entries), "E_USAGE");
});

test("superchunk - a finalized builder refuses further use", async () => {
  const { builder } = await build(sampleBlocks(3));
  await rejects(() => builder.finalize(), "E_USAGE");
  await rejects(() => builder.add(hashSubBlock(Buffer.from("x")), Buffer.from("x")), "E_USAGE");
});

test("superchunk - damage in table, payload and prefix is reported with its location", async () => {
  const { bytes, header } = await build(sampleBlocks(10));
  const table = await rejects(
    () => inflateSuperChunk(flip(bytes, 48 + 36 * 3 + 5), pool, where),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.instance(table, CorruptError);
  assert.equal(table.data, { superChunkId: 42, path: "sc/000042", offset: FIELD.headerCrc });
  const payload = await rejects(
    () => inflateSuperChunk(flip(bytes, header.headerBytes + 10), pool, where),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.is(payload.data.offset, header.headerBytes);
  assert.match(payload.message, /stored payload CRC/);
  assert.is(payload.data.superChunkId, 42);
  for (const at of [
    FIELD.rawBytes,
    FIELD.storedBytes + 1,
    FIELD.rawCrc,
    FIELD.codec,
    FIELD.headerCrc,
  ]) {
    await rejects(() => decodeHeader(flip(bytes, at), where), "E_SUPERCHUNK_CORRUPT");
  }
  const count = await rejects(
    () => decodeHeader(flip(bytes, FIELD.count), where),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.is(count.data.offset, FIELD.headerBytes);
});

test("superchunk - truncated files", async () => {
  const { bytes, header } = await build(sampleBlocks(10));
  for (const length of [0, 3, 20, SUPERCHUNK_PREFIX_BYTES, header.headerBytes - 1]) {
    const err = await rejects(
      () => decodeHeader(bytes.subarray(0, length), where),
      "E_SUPERCHUNK_CORRUPT",
    );
    assert.match(err.message, /truncated/);
  }
  const cut = await rejects(
    () => inflateSuperChunk(bytes.subarray(0, bytes.length - 1), pool, where),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.match(cut.message, /truncated/);
  const longer = Buffer.concat([bytes, Buffer.from([0])]);
  await rejects(() => inflateSuperChunk(longer, pool, where), "E_SUPERCHUNK_CORRUPT");
});

test("superchunk - newer version, bad magic, unknown codec and flags", async () => {
  const { bytes } = await build(sampleBlocks(4));
  const newer = Buffer.from(bytes);
  newer.writeUInt16LE(FORMAT_VERSION + 1, FIELD.version);
  const v = await rejects(() => decodeHeader(newer, where), "E_FORMAT_VERSION");
  assert.instance(v, FormatError);
  assert.is(v.data.version, FORMAT_VERSION + 1);
  await rejects(() => headerLength(newer), "E_FORMAT_VERSION");
  await rejects(
    () => decodeHeader(resealed(bytes, (b) => b.writeUInt16LE(0, FIELD.version))),
    "E_SUPERCHUNK_CORRUPT",
  );
  await rejects(() => decodeHeader(flip(bytes, 1), where), "E_BAD_MAGIC");
  await rejects(
    () => decodeHeader(Buffer.from("PK\x03\x04 not a super-chunk at all")),
    "E_BAD_MAGIC",
  );
  await rejects(
    () => decodeHeader(resealed(bytes, (b) => b.writeUInt8(9, FIELD.codec))),
    "E_CODEC_UNKNOWN",
  );
  await rejects(
    () => decodeHeader(resealed(bytes, (b) => b.writeUInt8(1, FIELD.flags))),
    "E_FORMAT_VERSION",
  );
});

test("superchunk - header that lies about the payload", async () => {
  const blocks = sampleBlocks(5);
  const { bytes, header } = await build(blocks);
  const stored = bytes.subarray(header.headerBytes);
  const entries = header.entries.map((e, i) => ({
    ...e,
    length: i === 0 ? e.length - 1 : e.length,
  }));
  const short = encodeHeader({ ...header, rawBytes: header.rawBytes - 1, entries });
  const bound = await rejects(
    () => inflateSuperChunk(Buffer.concat([short, stored]), pool, where),
    "E_INFLATE_BOUND",
  );
  assert.is(bound.data.superChunkId, 42);
  assert.is(bound.data.offset, short.length);
  const badCrc = encodeHeader({ ...header, rawCrc: (header.rawCrc + 1) >>> 0 });
  const crc = await rejects(
    () => inflateSuperChunk(Buffer.concat([badCrc, stored]), pool, where),
    "E_SUPERCHUNK_CORRUPT",
  );
  assert.match(crc.message, /raw payload CRC/);
  const sum = resealed(bytes, (b) => b.writeUInt32LE(header.entries[0]!.length + 1, 48 + 32));
  await rejects(() => decodeHeader(sum), "E_SUPERCHUNK_CORRUPT");
  const hash = Buffer.alloc(32) as SubBlockHash;
  await rejects(() => encodeHeader({ ...header, entries: [{ hash, length: 1 }] }), "E_INTERNAL");
});

test("superchunk - close the pool", async () => {
  await pool.close();
});

test.run();
