/**
 * Body of one codec pool worker thread (workers/ serveJobs): runs one compress or inflate
 * job at a time and answers with the result buffer transferred (plus its CRC-32 when the
 * job asks for it), or nothing when it inflated into the caller's shared memory. A codec's
 * module (and its native binding) is loaded on the first job that needs it, so a thread
 * that only inflates zstd boots without loading xz and lz4.
 */
import { crc32 } from "node:zlib";
import { type JobAnswer, serveJobs } from "../workers/serve-jobs.js";
import type { CodecReply, CodecRequest } from "./codec-protocol.js";
import { getCodec } from "./codec-table.js";

/** The module registering each codec; a name not listed loads the whole registry. */
const CODEC_MODULES: Readonly<Record<string, string>> = {
  none: "./none.js",
  zstd: "./zstd.js",
  xz: "./xz.js",
  lz4: "./lz4.js",
};
const loading = new Map<string, Promise<unknown>>();

/** Imports the module that registers `name` (once). */
function loadCodec(name: string): Promise<unknown> {
  let p = loading.get(name);
  if (p === undefined) {
    p = import(CODEC_MODULES[name] ?? "./codec-registry.js");
    loading.set(name, p);
  }
  return p;
}

async function run(req: CodecRequest): Promise<Uint8Array> {
  await loadCodec(req.codec);
  const codec = getCodec(req.codec);
  if (req.op === "compress") return await codec.compress(req.data, req.level);
  const out = req.into;
  if (codec.inflateInto !== undefined && out !== undefined) {
    codec.inflateInto(req.data, req.rawLength, out);
    return out;
  }
  // bindings without inflateInto (liblzma's, lz4's) read only unshared memory
  const data = req.data.buffer instanceof SharedArrayBuffer ? Buffer.from(req.data) : req.data;
  const raw = await codec.inflate(data, req.rawLength);
  if (out === undefined) return raw;
  out.set(raw.subarray(0, out.length));
  return out;
}

/**
 * A Uint8Array that alone owns its ArrayBuffer, so that buffer can be transferred:
 * `data` itself when it already does, else a copy. Only for buffers given away (this
 * worker's results): never a caller's buffer, transfer would detach it.
 */
function transferable(data: Uint8Array): Uint8Array {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return whole && !(data.buffer instanceof SharedArrayBuffer) ? data : new Uint8Array(data);
}

async function handle(req: CodecRequest): Promise<JobAnswer<CodecReply>> {
  const result = await run(req);
  // a prefix has no CRC of its own: the raw CRC covers the whole payload
  const crc = req.crc32 === true && result.byteLength === req.rawLength ? crc32(result) : undefined;
  const withCrc = crc === undefined ? {} : { crc32: crc };
  // shared memory is already the caller's: nothing to send back
  if (req.into !== undefined) return { res: withCrc };
  const out = transferable(result);
  return { res: { data: out, ...withCrc }, transfer: [out.buffer as ArrayBuffer] };
}

serveJobs(handle);
