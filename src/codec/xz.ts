/**
 * The xz codec (lzma-native, liblzma). Stream format: one standard .xz stream (LZMA2,
 * no integrity check: the super-chunk header carries CRC-32s), written by liblzma's
 * multi-threaded encoder run with one thread and one block as large as the input, so
 * that the block header declares both the compressed and the uncompressed size.
 * Levels are the xz presets 0..9, with the dictionary capped to the input (xz-preset.ts).
 *
 * Inflate first walks the stream's structure (xz-layout.ts): every block must declare
 * its sizes and their sum must equal the declared raw length; liblzma then refuses to
 * produce more than a block declares, and the decoded bytes are copied into a buffer
 * of exactly the raw length, aborting the moment anything would overflow it.
 */
import type { Duplex } from "node:stream";
import lzma from "lzma-native";
import { isCode } from "../errors.js";
import {
  asBuffer,
  checkLevel,
  checkRawLength,
  inflateBoundError,
  streamCorruptError,
} from "./bounds.js";
import { CODEC_IDS, type Codec } from "./codec.js";
import { registerCodec } from "./codec-table.js";
import { xzDeclaredSize } from "./xz-layout.js";
import { xzLzma2Options } from "./xz-preset.js";

/** Decoder memory limit: preset 9 needs a 64 MiB dictionary plus a little. */
const XZ_DECODER_MEMLIMIT_BYTES = 256 * 1024 * 1024;

/** Feeds `input` through `stream`, handing every output chunk to `onData`. */
function pump(stream: Duplex, input: Buffer, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on("data", (chunk: Buffer) => {
      try {
        onData(chunk);
      } catch (err) {
        stream.destroy();
        reject(err);
      }
    });
    stream.once("error", reject);
    stream.once("end", () => resolve());
    stream.end(input);
  });
}

async function compressXz(raw: Uint8Array, level: number): Promise<Buffer> {
  checkLevel(xzCodec, level);
  const encoder = lzma.createStream("streamEncoder", {
    filters: [{ id: lzma.FILTER_LZMA2, options: xzLzma2Options(level, raw.byteLength) }],
    check: lzma.CHECK_NONE,
    threads: 1,
    blockSize: Math.max(raw.byteLength, 1),
  });
  const chunks: Buffer[] = [];
  await pump(encoder, asBuffer(raw), (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

async function inflateXz(data: Uint8Array, rawLength: number): Promise<Buffer> {
  checkRawLength("xz", rawLength);
  const input = asBuffer(data);
  const declared = xzDeclaredSize(input);
  if (declared !== rawLength) {
    throw inflateBoundError("xz", rawLength, `stream declares ${declared}`, { declared });
  }
  const out = Buffer.allocUnsafe(rawLength);
  let produced = 0;
  const decoder = lzma.createStream("streamDecoder", { memlimit: XZ_DECODER_MEMLIMIT_BYTES });
  try {
    await pump(decoder, input, (chunk) => {
      if (produced + chunk.byteLength > rawLength)
        throw inflateBoundError("xz", rawLength, "the stream holds more");
      produced += chunk.copy(out, produced);
    });
  } catch (err) {
    if (isCode(err, "E_INFLATE_BOUND")) throw err;
    throw streamCorruptError("xz", err instanceof Error ? err.message : String(err), {}, err);
  }
  if (produced !== rawLength) throw inflateBoundError("xz", rawLength, `got ${produced}`);
  return out;
}

/** xz presets 0..9; the default is 6. */
export const xzCodec: Codec = {
  name: "xz",
  id: CODEC_IDS.xz,
  defaultLevel: 6,
  minLevel: 0,
  maxLevel: 9,
  // dense data: 1 is within 0.1 % of 6 at about half its time (dense.ts)
  denseLevel: 1,
  compress: compressXz,
  inflate: inflateXz,
};

registerCodec(xzCodec);
