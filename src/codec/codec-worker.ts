/**
 * Body of one codec pool worker thread: runs one compress or inflate request at a
 * time and answers with the result buffer transferred (plus its CRC-32 when the
 * request asks for it), or the error serialized. A codec's module (and its native
 * binding) is loaded on the first job that needs it, so a thread that only inflates
 * zstd boots without loading xz and lz4.
 */
import { parentPort } from "node:worker_threads";
import { crc32 } from "node:zlib";
import { InternalError } from "../errors.js";
import type { CheckedPoolReply, CheckedPoolRequest } from "./codec-pool.js";
import { getCodec } from "./codec-table.js";
import { type PoolReply, type PoolRequest, serializeError, transferable } from "./pool-protocol.js";

const port = parentPort;
if (port === null) throw new InternalError("codec-worker.js must run in a worker thread");

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

async function run(req: PoolRequest): Promise<Uint8Array> {
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

function replyError(id: number, err: unknown): void {
  const error = serializeError(err);
  try {
    port!.postMessage({ id, ok: false, error } satisfies PoolReply);
  } catch {
    // `data` held something that cannot be cloned: send the error without it
    port!.postMessage({ id, ok: false, error: { ...error, data: {} } } satisfies PoolReply);
  }
}

async function handle(req: CheckedPoolRequest): Promise<void> {
  let out: Uint8Array;
  let crc: number | undefined;
  try {
    const result = await run(req);
    // shared memory is already the caller's: nothing to send back
    out = req.into === undefined ? transferable(result) : result;
    // a prefix has no CRC of its own: the raw CRC covers the whole payload
    if (req.crc32 === true && out.byteLength === req.rawLength) crc = crc32(out);
  } catch (err) {
    replyError(req.id, err);
    return;
  }
  const reply: CheckedPoolReply = {
    id: req.id,
    ok: true,
    ...(req.into === undefined ? { data: out } : {}),
    ...(crc === undefined ? {} : { crc32: crc }),
  };
  port!.postMessage(reply, req.into === undefined ? [out.buffer as ArrayBuffer] : []);
}

port.on("message", (req: CheckedPoolRequest) => {
  void handle(req);
});
