/**
 * codec/: compress and inflate super-chunk payloads. The only folder that imports
 * compression bindings (zstd-napi, lzma-native, lz4-napi).
 *
 * - codec.ts: the Codec contract and the on-disk ids (none 0, zstd 1, xz 2, lz4 3).
 * - codec-registry.ts: {@link getCodec} by name or id; importing it registers them all.
 * - one file per codec (none.ts, zstd.ts, xz.ts, lz4.ts), each registering itself.
 * - codec-pool.ts: {@link CodecPool}, the same operations on worker threads (a workers/
 *   WorkerPool running codec-worker.ts; codec-protocol.ts holds their messages).
 *
 * Every inflate is bounded: the caller declares the raw length, the result is exactly
 * that long or the call throws CorruptError E_INFLATE_BOUND, and no codec allocates
 * much beyond it whatever the stream claims.
 */
export { CODEC_IDS, type Codec, type CodecName, codecNameOfId } from "./codec.js";
export { CodecPool, type CodecPoolOptions } from "./codec-pool.js";
export { codecNames, getCodec } from "./codec-registry.js";
