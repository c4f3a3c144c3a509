/**
 * A yielding holder of the writer's lock (a mount compacting after its unmount): close()
 * of a writable store calls onCommitted once everything is committed and durable, before
 * its last compaction pass; a writer taking the lock and a reader opening the store stop
 * such a holder (another process) and go on, while a holder that does not yield keeps
 * today's behaviour (E_STORE_LOCKED for writers; readers leave it alone).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { compactor } from "../../src/maintain/compact.js";
import { readCompactPending } from "../../src/store/compact-pending.js";
import { initStore } from "../../src/store/store-init.js";
import { openStore } from "../../src/store/store-layout.js";
import {
  acquireStoreLock,
  LOCK_FILE,
  readStoreLock,
  stopYieldingHolder,
} from "../../src/store/store-lock.js";
import { KIB } from "../../src/types.js";
import {
  type CallerContext,
  type ClosingStore,
  WritableStore,
  type WritableStoreOptions,
} from "../../src/writer/index.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";
import { versionsTree } from "../helpers/versions-tree.js";

const ctx: CallerContext = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const SETTINGS = { codec: "zstd" as const, level: 19, superChunkBytes: 256 * KIB };
const LOCK_JS = fileURLToPath(new URL("../../src/store/store-lock.js", import.meta.url));

test.after(() => cleanupTmp());

function newStore(): string {
  const store = join(tmpDir("lock-yield"), "store");
  initStore(store, SETTINGS);
  return store;
}

/** A holder of `store`'s lock in another process; `yields` marks it so; `onTerm` what SIGTERM does. */
async function holder(store: string, yields: boolean, onTerm: "exit" | "ignore") {
  const script = `
    const { acquireStoreLock } = await import(${JSON.stringify(LOCK_JS)});
    const lock = acquireStoreLock(${JSON.stringify(store)}, "mount /mnt/x");
    if (${yields}) lock.yieldTo("compaction after unmount of /mnt/x");
    process.on("SIGTERM", () => { if (${JSON.stringify(onTerm)} === "exit") process.exit(0); });
    setInterval(() => {}, 1000);
    process.stdout.write("ready\\n");`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    exited.then((code) => reject(new Error(`holder exited (${code}) before ready`)));
  });
  return { child, exited };
}

function stop(child: ChildProcess): void {
  if (child.exitCode === null) child.kill("SIGKILL");
}

/** Writes a small tree through a writable store (the last file left open) and closes it. */
async function closeWith(
  store: string,
  opts: WritableStoreOptions<WritableStore>,
  then: (closing: ClosingStore) => void = () => {},
) {
  const tree = versionsTree({ versions: 4, files: 8, fileBytes: 16 * KIB, seed: 7 });
  const names = [...tree.keys()].map((rel) => rel.replaceAll("/", "_"));
  const seen: { compacts: boolean; files: number; open: number; pending: number }[] = [];
  const onCommitted = (closing: ClosingStore) => {
    const opened = openStore(store, { readonly: true });
    try {
      const files = names.filter((n) => opened.meta.resolvePath(n) !== undefined).length;
      const open = existsSync(join(store, "open")) ? readdirSync(join(store, "open")).length : 0;
      const pending = readCompactPending(opened.meta).length;
      seen.push({ compacts: closing.compacts, files, open, pending });
    } finally {
      opened.meta.close();
    }
    then(closing);
  };
  const s = await WritableStore.open(store, { freezeIdleMs: 3_600_000, ...opts, onCommitted });
  const datas = [...tree.values()];
  for (const [i, name] of names.entries()) {
    const { fh } = s.create(ctx, s.root, Buffer.from(name), 0o644);
    s.write(fh, datas[i]!, 0);
    if (i < names.length - 1) await s.release(fh);
  }
  await s.close();
  assert.is(seen.length, 1, "called once");
  assert.is(seen[0]!.files, names.length, "every file committed");
  return seen[0]!;
}

test("lock-yield - without a compaction to follow, onCommitted comes after the freezes", async () => {
  const store = newStore();
  const at = await closeWith(store, {});
  assert.is(at.open, 0, "no open super-chunk: all frozen");
  assert.not.ok(at.compacts);
  assert.not.ok(existsSync(join(store, "open")) && readdirSync(join(store, "open")).length > 0);
});

test("lock-yield - close() calls onCommitted with all committed and durable, then freezes and runs the last pass", async () => {
  const store = newStore();
  const at = await closeWith(
    store,
    { compactIdleMs: 3_600_000, compactor: compactor() },
    (closing) => {
      closing.yieldLock("compaction after unmount of /mnt/t");
      assert.is(readStoreLock(store)?.yields, true, "the lock says it yields");
      assert.is(readStoreLock(store)?.purpose, "compaction after unmount of /mnt/t");
    },
  );
  // a compaction recompresses what is frozen: the freezes wait until after the hook
  assert.ok(at.open > 0, `open super-chunks left to freeze: ${JSON.stringify(at)}`);
  assert.ok(at.compacts, "a pass with work follows");
  assert.not.ok(
    existsSync(join(store, "open")) && readdirSync(join(store, "open")).length > 0,
    "frozen by the end of close()",
  );
  const opened = openStore(store, { readonly: true });
  try {
    assert.equal(readCompactPending(opened.meta), [], "the last pass ran after the hook");
  } finally {
    opened.meta.close();
  }
  assert.not.ok(existsSync(join(store, LOCK_FILE)), "the lock is released");
});

test("lock-yield - a writer taking the lock stops a yielding holder and takes over", async () => {
  const store = newStore();
  const h = await holder(store, true, "exit");
  try {
    assert.is(readStoreLock(store)?.pid, h.child.pid);
    const lock = acquireStoreLock(store, "mount /mnt/y");
    try {
      assert.is(readStoreLock(store)?.pid, process.pid, "taken over");
      assert.is(await h.exited, 0, "the holder exited on SIGTERM");
    } finally {
      lock.release();
    }
  } finally {
    stop(h.child);
  }
});

test("lock-yield - a reader opening the store stops a yielding holder first", async () => {
  const store = newStore();
  const h = await holder(store, true, "exit");
  try {
    const opened = openStore(store, { readonly: true });
    opened.meta.close();
    assert.is(readStoreLock(store), undefined, "the holder was gone once the store opened");
    assert.is(await h.exited, 0, "it exited on SIGTERM");
  } finally {
    stop(h.child);
  }
});

test("lock-yield - a holder that does not yield: E_STORE_LOCKED for writers, readers leave it", async () => {
  const store = newStore();
  const h = await holder(store, false, "exit");
  try {
    assert.throws(
      () => acquireStoreLock(store, "mount /mnt/y"),
      (e: unknown) => isCode(e, "E_STORE_LOCKED"),
    );
    const opened = openStore(store, { readonly: true });
    opened.meta.close();
    assert.is(stopYieldingHolder(store), false, "nothing to stop");
    assert.is(h.child.exitCode, null, "still running");
    assert.is(readStoreLock(store)?.pid, h.child.pid, "still the holder");
  } finally {
    stop(h.child);
  }
});

test("lock-yield - a yielding holder that does not go in time: E_STORE_LOCKED", async () => {
  const store = newStore();
  const h = await holder(store, true, "ignore");
  try {
    assert.throws(
      () => stopYieldingHolder(store, 300),
      (e: unknown) => isCode(e, "E_STORE_LOCKED") && /did not stop/.test(String(e)),
    );
  } finally {
    stop(h.child);
  }
});

test.run();
