/**
 * Body of one codec pool worker thread: runs one compress or inflate request at a
 * time and answers with the result buffer transferred, or the error serialized.
 */
import { parentPort } from "node:worker_threads";
import { InternalError } from "../errors.js";
import { getCodec } from "./codec-registry.js";
import { type PoolReply, type PoolRequest, serializeError, transferable } from "./pool-protocol.js";

const port = parentPort;
if (port === null) throw new InternalError("codec-worker.js must run in a worker thread");

async function run(req: PoolRequest): Promise<Buffer> {
  const codec = getCodec(req.codec);
  return req.op === "compress"
    ? await codec.compress(req.data, req.level)
    : await codec.inflate(req.data, req.rawLength);
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

async function handle(req: PoolRequest): Promise<void> {
  let out: Uint8Array;
  try {
    out = transferable(await run(req));
  } catch (err) {
    replyError(req.id, err);
    return;
  }
  port!.postMessage({ id: req.id, ok: true, data: out } satisfies PoolReply, [
    out.buffer as ArrayBuffer,
  ]);
}

port.on("message", (req: PoolRequest) => {
  void handle(req);
});
