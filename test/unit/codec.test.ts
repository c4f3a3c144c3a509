import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CodecPool } from "../../src/codec/codec-pool.js";
import { codecNames, getCodec } from "../../src/codec/codec-registry.js";
import { CorruptError, type ErrorCode, isCode, UsageError } from "../../src/errors.js";
import { MIB } from "../../src/types.js";

/** Compressible, deterministic text-like bytes. */
function sampleText(bytes: number, seed = 1): Buffer {
  const words = [
    "interface",
    "const",
    "return",
    "function",
    "export",
    "type",
    "string",
    "=>",
    "{",
    "}",
  ];
  const parts: string[] = [];
  let x = seed;
  let n = 0;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = words[x % words.length]!;
    parts.push(w);
    n += w.length + 1;
  }
  return Buffer.from(parts.join(" ")).subarray(0, bytes);
}

/** Runs `fn` and checks it throws (or rejects with) an EngineError with `code`. */
async function rejects(fn: () => unknown, code: ErrorCode): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return err;
  }
  assert.unreachable(`expected ${code}`);
}

/**
 * A hand-made zstd frame of `size` zero bytes from RLE blocks (4 bytes per 128 KiB):
 * a decompression bomb that costs nothing to build. With `withSize` the frame header
 * declares the content size (single segment), else only a 128 KiB window.
 */
function zstdZeroBomb(size: number, withSize: boolean): Buffer {
  const block = 128 * 1024;
  const head = withSize
    ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0])
    : Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]);
  if (withSize) head.writeUInt32LE(size, 5);
  const blocks: Buffer[] = [head];
  for (let done = 0; done < size; done += block) {
    const n = Math.min(block, size - done);
    const last = done + n >= size ? 1 : 0;
    const h = (n << 3) | (1 << 1) | last; // RLE block
    blocks.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0]));
  }
  return Buffer.concat(blocks);
}

/** Largest Buffer allocation requested on this thread while `fn` runs, the peak RSS growth, the error. */
async function allocationsDuring(
  fn: () => Promise<unknown>,
): Promise<{ largest: number; rssGrowth: number; error: unknown }> {
  const { alloc, allocUnsafe, allocUnsafeSlow } = Buffer;
  let largest = 0;
  const note = (size: number): number => {
    largest = Math.max(largest, size);
    return size;
  };
  Buffer.allocUnsafe = (size: number) => allocUnsafe(note(size));
  Buffer.allocUnsafeSlow = (size: number) => allocUnsafeSlow(note(size));
  Buffer.alloc = ((size: number, fill?: string | Uint8Array | number, enc?: BufferEncoding) =>
    alloc(note(size), fill, enc)) as typeof Buffer.alloc;
  const before = process.resourceUsage().maxRSS;
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  } finally {
    Object.assign(Buffer, { alloc, allocUnsafe, allocUnsafeSlow });
  }
  return { largest, rssGrowth: (process.resourceUsage().maxRSS - before) * 1024, error };
}

/** Clears the size fields of the first block header of an xz stream (keeps it valid). */
function xzWithoutBlockSizes(xz: Buffer): Buffer {
  const out = Buffer.from(xz);
  const pos = 12;
  const size = (out[pos]! + 1) * 4;
  let p = pos + 2;
  for (let vli = 0; vli < 2; vli++) while (out[p++]! & 0x80);
  out.copy(out, pos + 2, p, pos + size - 4);
  out.fill(0, pos + size - 4 - (p - pos - 2), pos + size - 4);
  out[pos + 1] = out[pos + 1]! & ~0xc0;
  out.writeUInt32LE(crc32(out.subarray(pos, pos + size - 4)), pos + size - 4);
  return out;
}

test("codec - registry names, ids and unknown codecs", async () => {
  assert.equal(codecNames(), ["none", "zstd", "xz", "lz4"]);
  for (const [name, id] of [
    ["none", 0],
    ["zstd", 1],
    ["xz", 2],
    ["lz4", 3],
  ] as const) {
    assert.is(getCodec(name).id, id);
    assert.is(getCodec(id).name, name);
  }
  await rejects(() => getCodec("gzip"), "E_CODEC_UNKNOWN");
  await rejects(() => getCodec(7), "E_CODEC_UNKNOWN");
});

test("codec - every codec round trips at min, default and max level", async () => {
  const raw = sampleText(200_000);
  for (const name of codecNames()) {
    const codec = getCodec(name);
    for (const level of new Set([codec.minLevel, codec.defaultLevel, codec.maxLevel])) {
      const packed = await codec.compress(raw, level);
      if (name !== "none") assert.ok(packed.length < raw.length / 2, `${name} ${level} compresses`);
      const back = await codec.inflate(packed, raw.length);
      assert.ok(back.equals(raw), `${name} level ${level} round trip`);
    }
    const empty = await codec.compress(Buffer.alloc(0), codec.defaultLevel);
    assert.is((await codec.inflate(empty, 0)).length, 0, `${name} empty input`);
  }
});

test("codec - levels outside the bounds are refused", async () => {
  const raw = sampleText(1000);
  for (const name of codecNames()) {
    const codec = getCodec(name);
    await rejects(() => codec.compress(raw, codec.maxLevel + 1), "E_USAGE");
    await rejects(() => codec.compress(raw, codec.minLevel - 1), "E_USAGE");
    await rejects(() => codec.compress(raw, codec.defaultLevel + 0.5), "E_USAGE");
  }
});

test("codec - inflate with a wrong declared length fails with E_INFLATE_BOUND", async () => {
  const raw = sampleText(100_000, 7);
  for (const name of codecNames()) {
    const codec = getCodec(name);
    const packed = await codec.compress(raw, codec.defaultLevel);
    for (const wrong of [raw.length - 1, raw.length + 1, 0, raw.length * 2]) {
      const err = await rejects(() => codec.inflate(packed, wrong), "E_INFLATE_BOUND");
      assert.instance(err, CorruptError);
      assert.is((err as CorruptError).data.codec, name);
    }
  }
});

test("codec - damaged streams fail with a corrupt code", async () => {
  const raw = sampleText(100_000, 3);
  for (const name of ["zstd", "xz", "lz4"] as const) {
    const codec = getCodec(name);
    const packed = Buffer.from(await codec.compress(raw, codec.defaultLevel));
    packed[Math.floor(packed.length / 2)]! ^= 0xff;
    try {
      const back = await codec.inflate(packed, raw.length);
      assert.not.ok(back.equals(raw), `${name}: a flipped byte must not go unnoticed silently`);
    } catch (err) {
      assert.instance(err, CorruptError, `${name}: ${String(err)}`);
    }
    const garbage = Buffer.from("not a stream at all");
    await Promise.resolve()
      .then(() => codec.inflate(garbage, raw.length))
      .then(
        () => assert.unreachable(`${name} accepted garbage`),
        (err: unknown) => assert.instance(err, CorruptError, String(err)),
      );
  }
});

test("codec - a zstd bomb is rejected without allocating it", async () => {
  const zstd = getCodec("zstd");
  const rawLength = 4 * MIB;
  for (const withSize of [true, false]) {
    const bomb = zstdZeroBomb(64 * MIB, withSize);
    assert.ok(bomb.length < 4096);
    const small = zstdZeroBomb(1000, withSize);
    assert.ok(
      (await zstd.inflate(small, 1000)).equals(Buffer.alloc(1000)),
      "the bomb format is valid zstd",
    );
    const seen = await allocationsDuring(async () => zstd.inflate(bomb, rawLength));
    assert.ok(isCode(seen.error, "E_INFLATE_BOUND"), String(seen.error));
    assert.ok(seen.largest <= rawLength, `largest allocation ${seen.largest}`);
    assert.ok(seen.rssGrowth < 48 * MIB, `peak RSS grew by ${seen.rssGrowth}`);
  }
});

test("codec - lz4 and xz streams that claim or hold more are refused", async () => {
  const lz4 = getCodec("lz4");
  const zeros = Buffer.alloc(MIB);
  const lied = Buffer.from(await lz4.compress(zeros, 0));
  lied.writeUInt32LE(64 * MIB, 0);
  await rejects(() => lz4.inflate(lied, 4 * MIB), "E_INFLATE_BOUND");
  lied.writeUInt32LE(1000, 0);
  await rejects(() => lz4.inflate(lied, 1000), "E_INFLATE_BOUND");

  const xz = getCodec("xz");
  const bomb = await xz.compress(Buffer.alloc(16 * MIB), 0);
  await rejects(() => xz.inflate(bomb, 4 * MIB), "E_INFLATE_BOUND");
  const unsized = xzWithoutBlockSizes(await xz.compress(sampleText(50_000), 6));
  await rejects(() => xz.inflate(unsized, 50_000), "E_INFLATE_BOUND");
});

test("codec - pool round trips many concurrent jobs", async () => {
  const pool = new CodecPool({ threads: 2 });
  try {
    const jobs = Array.from({ length: 12 }, async (_, i) => {
      const name = codecNames()[i % 4]!;
      const codec = getCodec(name);
      const raw = sampleText(50_000 + i * 1000, i + 1);
      const packed = await pool.compress(name, codec.defaultLevel, raw);
      const back = await pool.inflate(name, packed, raw.length);
      assert.ok(back.equals(raw), `job ${i} (${name})`);
      assert.ok(raw.equals(sampleText(50_000 + i * 1000, i + 1)), "input left intact");
    });
    await Promise.all(jobs);
  } finally {
    await pool.close();
  }
});

test("codec - pool errors keep their class, code and data across the worker boundary", async () => {
  const pool = new CodecPool({ threads: 1 });
  try {
    const raw = sampleText(10_000);
    const packed = await pool.compress("zstd", 3, raw);
    const bound = await rejects(() => pool.inflate("zstd", packed, 5), "E_INFLATE_BOUND");
    assert.instance(bound, CorruptError);
    assert.equal((bound as CorruptError).data, { codec: "zstd", rawLength: 5 });
    await rejects(
      () => pool.inflate("xz", Buffer.from("garbage garbage garbage garbage"), 10),
      "E_CORRUPT",
    );
    await rejects(() => pool.inflate("lz4", Buffer.from([1, 2]), 10), "E_CORRUPT");
    await rejects(() => pool.compress("zstd", 99, raw), "E_USAGE");
    await rejects(() => pool.compress("brotli" as "zstd", 1, raw), "E_CODEC_UNKNOWN");
    assert.ok(
      (await pool.inflate("zstd", packed, raw.length)).equals(raw),
      "pool still works after errors",
    );
  } finally {
    await pool.close();
  }
});

test("codec - pool inflateChecked answers the output's CRC-32; urgent jobs go ahead of queued ones", async () => {
  const pool = new CodecPool({ threads: 1 });
  pool.warm();
  try {
    const raws = [0, 1, 2, 3].map((i) => sampleText(200_000, i + 7));
    const packed = await Promise.all(raws.map((raw) => pool.compress("zstd", 3, raw)));
    const order: number[] = [];
    const run = (i: number, urgent: boolean) =>
      pool.inflateChecked("zstd", packed[i]!, raws[i]!.length, { urgent }).then((r) => {
        order.push(i);
        return r;
      });
    // job 0 occupies the only worker; 1 and 2 wait in the queue; 3 is urgent and overtakes them
    const results = await Promise.all([run(0, false), run(1, false), run(2, false), run(3, true)]);
    assert.equal(order, [0, 3, 1, 2]);
    results.forEach((r, i) => {
      assert.ok(r.raw.equals(raws[i]!), `bytes of job ${i}`);
      assert.is(r.crc32, crc32(raws[i]!), `crc of job ${i}`);
    });
    const none = await pool.inflateChecked("none", raws[0]!, raws[0]!.length);
    assert.is(none.crc32, crc32(raws[0]!), "inline codec: CRC computed here");
  } finally {
    await pool.close();
  }
});

test("codec - pool close is idempotent and rejects pending jobs", async () => {
  const pool = new CodecPool({ threads: 1 });
  const raw = randomBytes(2 * MIB);
  const pending = [1, 2, 3].map(() => pool.compress("xz", 9, raw));
  const settled = Promise.allSettled(pending);
  const first = pool.close();
  assert.is(pool.close(), first);
  await first;
  for (const r of await settled) {
    assert.is(r.status, "rejected");
    if (r.status === "rejected") {
      assert.instance(r.reason, UsageError);
      assert.ok(isCode(r.reason, "E_USAGE"));
    }
  }
  await rejects(() => pool.compress("zstd", 3, raw), "E_USAGE");
  await rejects(() => pool.inflate("none", raw, raw.length), "E_USAGE");
});

test.run();
