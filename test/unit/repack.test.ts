import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { repackCommand } from "../../src/cli/cmd-repack.js";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { repackStore } from "../../src/maintain/repack.js";
import { StoreRewrite } from "../../src/meta/store-rewrite.js";
import { packTree } from "../../src/pack/pack.js";
import { storeStats } from "../../src/stats/stats.js";
import { DB_FILE, openStore } from "../../src/store/store-layout.js";
import { acquireStoreLock } from "../../src/store/store-lock.js";
import { captureIO } from "../helpers/cli-capture.js";
import { cleanupTmp, compareTrees, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const REPACK = new URL("../../src/maintain/repack.js", import.meta.url).href;

/** Compressible versions of a few files, plus one incompressible file. */
function makeTree(root: string): void {
  const words = seededBytes(150_000, 5)
    .toString("base64")
    .match(/.{1,6}/g)!;
  const doc = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => words[(i * 7919 + seed * 104729) % words.length]).join(" ");
  for (const v of ["v1", "v2", "v3"]) fs.mkdirSync(path.join(root, v), { recursive: true });
  for (let f = 0; f < 3; f++) {
    const body = doc(50_000, f);
    fs.writeFileSync(path.join(root, "v1", `f${f}.txt`), body);
    fs.writeFileSync(
      path.join(root, "v2", `f${f}.txt`),
      `${body.slice(0, 90_000)}EDIT${body.slice(90_000)}`,
    );
    fs.writeFileSync(
      path.join(root, "v3", `f${f}.txt`),
      `${doc(20_000, f + 10)}${body.slice(50_000)}`,
    );
  }
  fs.writeFileSync(path.join(root, "v3", "random.bin"), seededBytes(600_000, 77));
}

async function packed() {
  const root = tmpDir("repack");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 256 * 1024, order: "path" });
  return { root, src, store };
}

async function sameAs(store: string, src: string, root: string): Promise<void> {
  const out = path.join(root, `out-${Math.random().toString(36).slice(2)}`);
  await extractTree(store, out);
  assert.equal(compareTrees(src, out), []);
}

/** Makes `rel` an empty file the way a writer would: content released, then purged. */
function dropFile(store: string, src: string, rel: string): void {
  const { meta } = openStore(store, { readonly: false });
  const ino = meta.resolvePath(rel)!;
  const content = meta.getInode(ino)!.content!;
  meta.transaction(() => {
    meta.updateInode(ino, { content: null, size: 0 });
    meta.addContentRef(content, -1);
  });
  meta.close();
  const rw = StoreRewrite.open(path.join(store, DB_FILE));
  rw.transaction(() => rw.purgeDeadContents());
  rw.close();
  fs.writeFileSync(path.join(src, rel), "");
  const st = fs.statSync(path.join(src, rel), { bigint: true });
  const { meta: m2 } = openStore(store, { readonly: false });
  m2.updateInode(ino, { mtimeNs: st.mtimeNs });
  m2.close();
}

test("repack - --all --codec xz reads back identically and fsck stays clean", async () => {
  const { root, src, store } = await packed();
  const before = storeStats(store);
  const s = await repackStore(store, { all: true, codec: "xz", level: 6 });
  assert.is(s.selected, before.superChunkCount);
  assert.is(
    s.subBlocksMoved,
    before.sharing.reduce((a, b) => a + b.subBlocks, 0),
  );
  const after = storeStats(store);
  assert.ok(
    Object.keys(after.codecs).every((c) => c === "xz" || c === "none"),
    JSON.stringify(after.codecs),
  );
  assert.ok(after.codecs.xz !== undefined);
  assert.is(after.uniqueBytes, before.uniqueBytes);
  assert.ok(fsckClean(await fsckStore(store)));
  await sameAs(store, src, root);
  const { meta } = openStore(store, { readonly: true });
  assert.is(meta.getMeta("codec"), "xz");
  meta.close();
});

test("repack - dead bytes are dropped and the store shrinks", async () => {
  const { root, src, store } = await packed();
  dropFile(store, src, "v3/random.bin");
  dropFile(store, src, "v3/f0.txt");
  const before = storeStats(store);
  assert.ok(before.deadBytes >= 600_000, `dead ${before.deadBytes}`);
  assert.ok(before.repackCandidates >= 1);
  const dry = await repackStore(store, { dryRun: true });
  assert.ok(dry.dryRun && dry.deadBytesDropped >= 600_000);
  assert.equal(storeStats(store), before, "a dry run changes nothing");
  const s = await repackStore(store);
  assert.is(s.deadBytesDropped, dry.deadBytesDropped);
  const after = storeStats(store);
  assert.is(after.deadBytes, 0);
  assert.ok(
    after.storedBytes < before.storedBytes - 500_000,
    `${after.storedBytes} vs ${before.storedBytes}`,
  );
  assert.is(s.storedBytesAfter, after.storedBytes);
  assert.ok(fsckClean(await fsckStore(store)));
  await sameAs(store, src, root);
});

test("repack - --dry-run predicts the bytes reclaimed within 10 %", async () => {
  // dead sub-blocks whole files and amid live ones (rewritten files), with and without --all
  const cases: [string[], { all?: boolean; codec?: "xz" }][] = [
    [["v3/random.bin", "v3/f0.txt"], {}],
    [["v1/f1.txt", "v3/f2.txt", "v2/f0.txt"], {}],
    [["v1/f1.txt", "v2/f0.txt"], { all: true, codec: "xz" }],
  ];
  for (const [drops, opts] of cases) {
    const { root, src, store } = await packed();
    for (const rel of drops) dropFile(store, src, rel);
    const dry = await repackStore(store, { ...opts, dryRun: true });
    const real = await repackStore(store, opts);
    const what = `${drops.join(" ")} ${JSON.stringify(opts)}: dry ${dry.reclaimedBytes}, real ${real.reclaimedBytes} (retired ${real.retiredStoredBytes})`;
    console.log(`    ${what}`);
    assert.ok(real.reclaimedBytes > 0, what);
    assert.ok(
      Math.abs(dry.reclaimedBytes - real.reclaimedBytes) <= 0.1 * real.reclaimedBytes,
      what,
    );
    assert.is(dry.storedBytesBefore - dry.reclaimedBytes, dry.storedBytesAfter);
    await sameAs(store, src, root);
  }
});

test("repack - refused while the store is locked", async () => {
  const { store } = await packed();
  const lock = acquireStoreLock(store, "mount /mnt/x");
  try {
    await repackStore(store, { all: true }).then(
      () => assert.unreachable("should refuse"),
      (err) => assert.ok(isCode(err, "E_STORE_LOCKED"), String(err)),
    );
  } finally {
    lock.release();
  }
});

test("repack - a crash before the switch leaves the old store and orphans only", async () => {
  const { root, src, store } = await packed();
  await repackStore(store, {
    all: true,
    beforeCommit: () => {
      throw new Error("simulated crash");
    },
  }).then(
    () => assert.unreachable("should fail"),
    (err) => assert.match(String(err), /simulated crash/),
  );
  const r = await fsckStore(store);
  assert.ok(fsckClean(r));
  assert.ok(
    r.problems.some((p) => p.kind === "orphan"),
    "new files left as orphans",
  );
  await sameAs(store, src, root);
  const fixed = await fsckStore(store, { fix: true });
  assert.is(fixed.after!.warnings, 0);
});

/** Runs a repack (--all, xz 1) in a child process and kills it with SIGKILL after `ms`. */
function killedRepack(store: string, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const opts = JSON.stringify({ all: true, codec: "xz", level: 1 });
    const script = `import(${JSON.stringify(REPACK)})
      .then((m) => m.repackStore(${JSON.stringify(store)}, ${opts}))
      .catch((err) => { console.error(err); process.exit(1); });`;
    const child = spawn(process.execPath, ["-e", script], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test("repack - kill -9 at random moments leaves a consistent store", async () => {
  const { root, src, store } = await packed();
  const pristine = path.join(root, "pristine");
  fs.cpSync(store, pristine, { recursive: true });
  const t0 = Date.now();
  assert.is(await killedRepack(store, 600_000), 0, "a full run succeeds");
  const full = Date.now() - t0;
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 5; i++) {
    fs.rmSync(store, { recursive: true, force: true });
    fs.cpSync(pristine, store, { recursive: true });
    const at = Math.floor(rand() * full);
    await killedRepack(store, at);
    const r = await fsckStore(store);
    assert.ok(
      fsckClean(r),
      `killed at ${at} ms of ${full}: ${JSON.stringify(r.problems.slice(0, 3))}`,
    );
    await sameAs(store, src, root);
    assert.is(await killedRepack(store, 600_000), 0, "a repack after the crash completes");
    assert.ok(fsckClean(await fsckStore(store)));
  }
});

test("repack - CLI --dry-run --json", async () => {
  const { store } = await packed();
  const { io, out } = captureIO({ env: {} });
  assert.is(await repackCommand.run([store, "--all", "--dry-run", "--json"], io), 0);
  const s = JSON.parse(out());
  assert.is(s.dryRun, true);
  assert.is(s.command, "repack");
  assert.ok(s.rewrittenSuperChunkCount > 0);
  assert.ok(s.superChunkBytesAfter < s.superChunkBytesBefore);
});

test.run();
