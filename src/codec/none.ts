/** The "none" codec: the payload is the raw bytes. Used for incompressible super-chunks. */
import { checkLevel, checkRawLength, inflateBoundError } from "./bounds.js";
import { CODEC_IDS, type Codec } from "./codec.js";
import { registerCodec } from "./codec-table.js";

/** Stores bytes as they are; level 0 only. */
export const noneCodec: Codec = {
  name: "none",
  id: CODEC_IDS.none,
  defaultLevel: 0,
  minLevel: 0,
  maxLevel: 0,
  compress(raw: Uint8Array, level: number): Buffer {
    checkLevel(noneCodec, level);
    return Buffer.from(raw);
  },
  inflate(data: Uint8Array, rawLength: number): Buffer {
    checkRawLength("none", rawLength);
    if (data.byteLength !== rawLength) {
      throw inflateBoundError("none", rawLength, `stored ${data.byteLength} bytes`);
    }
    return Buffer.from(data);
  },
};

registerCodec(noneCodec);
