import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CorruptError,
  type ErrorCode,
  InternalError,
  isCode,
  UsageError,
} from "../../src/errors.js";
import { WorkerPool } from "../../src/workers/worker-pool.js";
import type { TestJob } from "../helpers/pool-worker.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

const SCRIPT = new URL("../helpers/pool-worker.js", import.meta.url);

test.after(cleanupTmp);

type Pool = WorkerPool<TestJob, Record<string, unknown>>;

function newPool(threads: number): Pool {
  return new WorkerPool({ script: SCRIPT, threads, name: "test" });
}

async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    assert.ok(isCode(err, code), `expected ${code}, got ${String(err)}`);
    return err;
  }
  return assert.unreachable(`expected ${code}`);
}

test("worker-pool - answers jobs and moves transferred buffers", async () => {
  const pool = newPool(2);
  try {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const sent = new Uint8Array(bytes);
    const res = await pool.run({ kind: "echo", bytes: sent }, { transfer: [sent.buffer] });
    assert.equal(new Uint8Array(res.bytes as Uint8Array), bytes);
    assert.is(sent.byteLength, 0, "the transferred request buffer is detached here");
  } finally {
    await pool.close();
  }
});

test("worker-pool - an EngineError thrown in a worker arrives with its class, code and data", async () => {
  const pool = newPool(1);
  try {
    const err = await rejects(pool.run({ kind: "corrupt" }), "E_SUBBLOCK_HASH");
    assert.instance(err, CorruptError);
    const e = err as CorruptError;
    assert.is(e.family, "corrupt");
    assert.equal(e.data, { superChunkId: 7, offset: 4096, size: "12" });
    assert.is(e.message, "sub-block hash mismatch");

    const plain = await rejects(pool.run({ kind: "plain" }), "E_INTERNAL");
    assert.instance(plain, InternalError);
    assert.match((plain as Error).message, /test worker: TypeError: not an engine error/);
  } finally {
    await pool.close();
  }
});

test("worker-pool - a crashed worker fails its job with E_INTERNAL and the pool goes on", async () => {
  const pool = newPool(1);
  try {
    const crash = pool.run({ kind: "crash" });
    const queued = pool.run({ kind: "wait", ms: 1 });
    const err = await rejects(crash, "E_INTERNAL");
    assert.instance(err, InternalError);
    assert.match((err as Error).message, /test worker exited/);
    assert.equal(await queued, { waited: 1 }, "the job queued behind it ran on a new worker");
    assert.equal(await pool.run({ kind: "wait", ms: 2 }), { waited: 2 });
  } finally {
    await pool.close();
  }
});

test("worker-pool - urgent jobs go ahead of queued ones", async () => {
  const pool = newPool(1);
  pool.warm();
  try {
    const order: number[] = [];
    const run = (ms: number, urgent: boolean) =>
      pool.run({ kind: "wait", ms }, { urgent }).then(() => order.push(ms));
    await Promise.all([run(20, false), run(1, false), run(2, false), run(3, true)]);
    assert.equal(order, [20, 3, 1, 2]);
  } finally {
    await pool.close();
  }
});

test("worker-pool - close is idempotent, fails pending jobs and rejects later ones", async () => {
  const pool = newPool(1);
  const running = pool.run({ kind: "wait", ms: 10_000 });
  const queued = pool.run({ kind: "wait", ms: 1 });
  const settled = Promise.allSettled([running, queued]);
  const first = pool.close();
  assert.is(pool.close(), first, "a second close answers the same promise");
  await first;
  for (const r of await settled) {
    assert.is(r.status, "rejected");
    if (r.status === "rejected") {
      assert.instance(r.reason, UsageError);
      assert.ok(isCode(r.reason, "E_USAGE"));
    }
  }
  const late = await rejects(pool.run({ kind: "wait", ms: 1 }), "E_USAGE");
  assert.instance(late, UsageError);
  pool.warm();
  await pool.close();
});

test("worker-pool - a reply that arrives after close keeps the process alive until the workers exit", () => {
  // the worker answers, then blocks for 1.5 s where terminate cannot stop it; this thread
  // calls close before it reads the answer. The answer used to unref the terminating
  // worker, and with nothing else pending the process exited before close settled
  const pool = fileURLToPath(new URL("../../src/workers/worker-pool.js", import.meta.url));
  const script = `
    import { WorkerPool } from ${JSON.stringify(pool)};
    const pool = new WorkerPool({ script: new URL(${JSON.stringify(SCRIPT.href)}), threads: 1, name: "t" });
    pool.run({ kind: "answer-then-block", ms: 1500 }).catch(() => {});
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800); // the answer is sent meanwhile
    await pool.close();
    process.stdout.write("closed");`;
  // a file, not -e: an evaluated module's pending await keeps the process alive by itself
  const file = path.join(tmpDir("pool-close"), "close.mjs");
  fs.writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, "closed", "close settled before the process ended");
});

test("worker-pool - threads must be a positive integer", () => {
  assert.throws(
    () => newPool(0),
    (e: unknown) => isCode(e, "E_USAGE"),
  );
  assert.throws(
    () => newPool(1.5),
    (e: unknown) => isCode(e, "E_USAGE"),
  );
});

test.run();
