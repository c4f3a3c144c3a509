/**
 * Read-write S3 stores against a real RADOS Gateway: writes through a read-write mount are
 * published as generations (while mounted and at unmount) and a fresh read-only mount sees
 * exactly them; one writer at a time; a killed writer loses nothing it committed; objects
 * leave the bucket only after the generation that no longer names them is committed.
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import { initCommand } from "../../src/cli/cmd-init.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { isCode } from "../../src/errors.js";
import { extractTree } from "../../src/export/extract.js";
import { openStoreSource } from "../../src/location/store-source.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { repackStore } from "../../src/maintain/repack.js";
import { packTo as packToS3 } from "../../src/pack/pack-to.js";
import { openFollowingS3Reader } from "../../src/s3store/s3-follow.js";
import { readPointer } from "../../src/s3store/s3-store.js";
import { openS3Writable } from "../../src/s3store/s3-writable.js";
import { isMetaCopyKey } from "../../src/store/meta-copy.js";
import { ROOT_CALLER } from "../../src/writer/index.js";
import { captureIO } from "../helpers/cli-capture.js";
import {
  isMounted,
  lazyUnmountSync,
  mountDir,
  type ServedStore,
  serveStore,
} from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const { test, t, skip, ceph } = suiteNeeding("s3-rw", ["ceph", "fuse"]);

const BUCKET = "superchunk-rw";
let src = "";

test.before(async () => {
  if (skip) return;
  src = path.join(tmpDir("s3rw-src"), "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
});

const io = () => captureIO({ runDir: true }).io;

async function packed(name: string): Promise<string> {
  const loc = `s3://${BUCKET}/${name}`;
  await packToS3(src, loc, { superChunkBytes: 256 * 1024 });
  return loc;
}

async function generation(loc: string): Promise<number> {
  const blobs = S3BlobStore.open(loc);
  try {
    return (await readPointer(blobs))?.generation ?? 0;
  } finally {
    await blobs.close();
  }
}

async function unmount(mnt: string, served: ServedStore | undefined): Promise<void> {
  if (isMounted(mnt)) await umountCommand.run([mnt], io());
  if (served !== undefined) assert.is(await served.exited, 0, served.stderr());
}

/** Changes of every kind, made through a mounted tree. */
function change(root: string): void {
  const p = (...parts: string[]) => path.join(root, ...parts);
  fs.writeFileSync(p("new.bin"), seededBytes(3 * 1024 * 1024 + 7, 41));
  fs.appendFileSync(p("text.txt"), "one more line\n");
  const fd = fs.openSync(p("a", "b", "big-v2.bin"), "r+");
  fs.writeSync(fd, Buffer.from("overwritten in place"), 0, 20, 1_000_000);
  fs.closeSync(fd);
  fs.unlinkSync(p("a", "b", "big.bin"));
  fs.mkdirSync(p("new-dir"));
  fs.symlinkSync("../new.bin", p("new-dir", "link"));
  fs.renameSync(p("hello.txt"), p("new-dir", "hello-moved.txt"));
  fs.chmodSync(p("mode640"), 0o600);
  fs.rmSync(p("a", "b", "c"), { recursive: true });
}

/** Keys of the super-chunk objects in the bucket, and the ones the committed generation names. */
async function objectsAndNamed(loc: string): Promise<{ inBucket: string[]; named: string[] }> {
  const blobs = S3BlobStore.open(loc);
  const s = await openStoreSource(loc, { readonly: true });
  try {
    const inBucket: string[] = [];
    for await (const k of blobs.list("sc/")) if (!isMetaCopyKey(k)) inBucket.push(k);
    const named = s.meta.listSuperChunks().map((r) => superChunkKey(r.id));
    return { inBucket: inBucket.sort(), named: named.sort() };
  } finally {
    await s.close();
    await blobs.close();
  }
}

t("s3-rw - writes through a read-write mount are what a fresh read-only mount shows", async () => {
  const loc = await packed("rw");
  const before = await objectsAndNamed(loc);
  assert.equal(before.inBucket, before.named);
  const mnt = mountDir("s3rw-w");
  const mnt2 = mountDir("s3rw-w2");
  const ro = mountDir("s3rw-r");
  const expect = path.join(tmpDir("s3rw-expect"), "tree");
  const work = tmpDir("s3rw-work");
  let served: ServedStore | undefined;
  let reader: ServedStore | undefined;
  try {
    served = await serveStore(loc, mnt, [
      "--read-write",
      "--work-dir",
      work,
      "--cache-size",
      "32M",
    ]);
    let refused = "";
    await serveStore(loc, mnt2, ["--read-write", "--work-dir", tmpDir("s3rw-work2")]).catch(
      (err: Error) => {
        refused = err.message;
      },
    );
    assert.match(refused, "E_STORE_LOCKED", refused);
    assert.match(refused, `pid ${served.pid}`);
    assert.not.ok(isMounted(mnt2));
    change(mnt);
    assert.is(spawnSync("cp", ["-a", mnt, expect]).status, 0);
    await unmount(mnt, served);
    served = undefined;
    assert.ok((await generation(loc)) >= 2, "a generation was published");
    reader = await serveStore(loc, ro, ["--read-only", "--cache-size", "16M"]);
    assert.equal(compareMounted(expect, ro), []);
  } finally {
    await unmount(mnt, served);
    await unmount(ro, reader);
  }
  const after = await objectsAndNamed(loc);
  assert.equal(after.inBucket, after.named, "the bucket holds exactly what the generation names");
  assert.ok(after.named.length > before.named.length, "the new file's super-chunks are there");
});

t(
  "s3-rw - init makes an empty S3 store; cp -a into a read-write mount, read back exactly",
  async () => {
    const loc = `s3://${BUCKET}/fresh`;
    assert.is(await initCommand.run([loc, "--superchunk-size", "256K"], io()), 0);
    assert.is(await generation(loc), 1);
    const again = await initCommand.run([loc], io()).catch((err: Error) => err);
    assert.ok(isCode(again, "E_DEST_EXISTS"), String(again));
    const mnt = mountDir("s3rw-init");
    const ro = mountDir("s3rw-init-r");
    let served: ServedStore | undefined;
    let reader: ServedStore | undefined;
    try {
      served = await serveStore(loc, mnt, ["--read-write", "--work-dir", tmpDir("s3rw-iw")]);
      assert.equal(fs.readdirSync(mnt), []);
      assert.is(spawnSync("cp", ["-a", `${src}/.`, mnt]).status, 0);
      await unmount(mnt, served);
      served = undefined;
      reader = await serveStore(loc, ro, ["--read-only"]);
      assert.equal(
        compareMounted(src, ro).filter((d) => d.path !== "/"),
        [],
      );
    } finally {
      await unmount(ro, reader);
      await unmount(mnt, served);
    }
  },
);

t("s3-rw - a generation is published while mounted, and a reader elsewhere sees it", async () => {
  const loc = await packed("live");
  const mnt = mountDir("s3rw-live");
  const ro = mountDir("s3rw-live-r");
  let served: ServedStore | undefined;
  let reader: ServedStore | undefined;
  try {
    served = await serveStore(loc, mnt, ["--read-write", "--work-dir", tmpDir("s3rw-lw")]);
    const body = seededBytes(200_000, 77);
    fs.writeFileSync(path.join(mnt, "while-mounted.bin"), body);
    const deadline = Date.now() + 60_000;
    while ((await generation(loc)) < 2 && Date.now() < deadline) await sleep(200);
    assert.ok((await generation(loc)) >= 2, `no generation published: ${served.stderr()}`);
    reader = await serveStore(loc, ro, ["--read-only"]);
    assert.ok(fs.readFileSync(path.join(ro, "while-mounted.bin")).equals(body));
    assert.match(served.stderr(), /published generation 2/);
  } finally {
    await unmount(ro, reader);
    await unmount(mnt, served);
  }
});

t("s3-rw - kill -9 of a read-write mount: the next one publishes what it committed", async () => {
  const loc = await packed("crash");
  const mnt = mountDir("s3rw-crash");
  const ro = mountDir("s3rw-crash-r");
  const work = tmpDir("s3rw-cw");
  const body = seededBytes(1_500_000, 5);
  let served: ServedStore | undefined;
  let reader: ServedStore | undefined;
  try {
    // publishing waits for an hour of quiet: the kill comes before any publish
    served = await serveStore(loc, mnt, [
      "--read-write",
      "--work-dir",
      work,
      "--publish-idle",
      "3600",
    ]);
    fs.writeFileSync(path.join(mnt, "committed.bin"), body); // close(2) returns after the commit
    process.kill(served.pid, "SIGKILL");
    await served.exited;
    served = undefined;
    lazyUnmountSync(mnt);
    assert.is(await generation(loc), 1, "nothing was published before the kill");
    served = await serveStore(loc, mnt, ["--read-write", "--work-dir", work]);
    assert.match(served.stderr(), "resuming the work directory");
    assert.ok(fs.readFileSync(path.join(mnt, "committed.bin")).equals(body));
    await unmount(mnt, served);
    served = undefined;
    assert.is(await generation(loc), 2);
    reader = await serveStore(loc, ro, ["--read-only"]);
    assert.ok(fs.readFileSync(path.join(ro, "committed.bin")).equals(body));
  } finally {
    await unmount(ro, reader);
    await unmount(mnt, served);
  }
});

t(
  "s3-rw - freed objects stay in the bucket until the generation without them is committed",
  async () => {
    const loc = await packed("defer");
    const w = await openS3Writable(loc, {
      purpose: "test",
      workDir: tmpDir("s3rw-defer"),
      publishIdleMs: 3_600_000,
      publishMaxDelayMs: 3_600_000,
    });
    const blobs = S3BlobStore.open(loc);
    try {
      const { store } = w;
      const before = await objectsAndNamed(loc);
      for (const name of ["big.bin", "big-v2.bin"]) {
        const { parent } = store.parentOf(`a/b/${name}`);
        store.unlink(parent, Buffer.from(name));
      }
      const { parent } = store.parentOf("a/b/c/copy-of-big.bin");
      store.unlink(parent, Buffer.from("copy-of-big.bin"));
      await store.freezeAll(); // reaps the dead super-chunks: rows gone, deletes only noted
      const listed: string[] = [];
      for await (const k of blobs.list("sc/")) if (!isMetaCopyKey(k)) listed.push(k);
      assert.equal(listed.sort(), before.inBucket, "nothing deleted before the commit");
      assert.ok(w.checkout.blobs.pendingCount > 0, "the reap noted deletes");
      assert.is(await w.publishNow(), 2);
      const after = await objectsAndNamed(loc);
      assert.equal(after.inBucket, after.named);
      assert.ok(after.named.length < before.named.length);
      const { fh } = store.create(ROOT_CALLER, store.root, Buffer.from("x"), 0o644);
      store.write(fh, Buffer.from("x"), 0);
      await store.release(fh);
    } finally {
      await blobs.close();
      await w.store.close();
    }
    assert.is(await generation(loc), 3, "close published the last change");
  },
);

t(
  "s3-rw - unmount while the gateway is down keeps the changes; the next mount publishes them",
  async () => {
    const loc = await packed("outage");
    const mnt = mountDir("s3rw-out");
    const work = tmpDir("s3rw-ow");
    const body = seededBytes(700_000, 9);
    let served: ServedStore | undefined;
    try {
      served = await serveStore(loc, mnt, [
        "--read-write",
        "--work-dir",
        work,
        "--publish-idle",
        "3600",
        "--endpoint",
        ceph!.endpoint,
      ]);
      fs.writeFileSync(path.join(mnt, "during-outage.bin"), body);
      await ceph!.stopGateway();
      await umountCommand.run([mnt], io());
      const code = await served.exited;
      served = undefined;
      assert.is.not(code, 0, "the server says it could not publish");
    } finally {
      await ceph!.startGateway();
      if (isMounted(mnt)) lazyUnmountSync(mnt);
    }
    assert.is(await generation(loc), 1);
    try {
      served = await serveStore(loc, mnt, ["--read-write", "--work-dir", work]);
      assert.match(served.stderr(), "resuming the work directory");
    } finally {
      await unmount(mnt, served);
    }
    assert.is(await generation(loc), 2);
    const out = await extracted(loc);
    assert.ok(fs.readFileSync(path.join(out, "during-outage.bin")).equals(body));
  },
);

t(
  "s3-rw - a lease that expired while the gateway was down is regained, then publishing goes on",
  async () => {
    const loc = await packed("regain");
    const w = await openS3Writable(loc, {
      purpose: "test",
      workDir: tmpDir("s3rw-rg"),
      publishIdleMs: 3_600_000,
      publishMaxDelayMs: 3_600_000,
      lease: { ttlMs: 1500, renewMs: 250 },
      maxAttempts: 1,
    });
    try {
      const { fh } = w.store.create(ROOT_CALLER, w.store.root, Buffer.from("late.txt"), 0o644);
      w.store.write(fh, Buffer.from("written before the outage"), 0);
      await w.store.release(fh);
      await ceph!.stopGateway();
      await sleep(2500); // the lease expires unrenewed
      const failed = await w.publishNow().then(
        () => undefined,
        (err: Error) => err,
      );
      assert.ok(isCode(failed, "E_STORE_LOCKED") || isCode(failed, "E_IO"), String(failed));
      await ceph!.startGateway();
      let gen: number | undefined;
      const deadline = Date.now() + 30_000;
      while (gen === undefined && Date.now() < deadline) {
        gen = await w.publishNow().catch(async () => {
          await sleep(200);
          return undefined;
        });
      }
      assert.is(gen, 2, "published once the lease was renewed again");
    } finally {
      await ceph!.startGateway();
      await w.store.close();
    }
    const out = await extracted(loc);
    assert.is(fs.readFileSync(path.join(out, "late.txt"), "utf8"), "written before the outage");
  },
);

t(
  "s3-rw - unpublished changes on an outdated generation are moved aside, never merged",
  async () => {
    const loc = await packed("aside");
    const mnt = mountDir("s3rw-aside");
    const work = path.join(tmpDir("s3rw-as"), "work");
    let served: ServedStore | undefined = await serveStore(loc, mnt, [
      "--read-write",
      "--work-dir",
      work,
      "--publish-idle",
      "3600",
    ]);
    try {
      fs.writeFileSync(path.join(mnt, "lost-race.txt"), "never published");
      process.kill(served.pid, "SIGKILL");
      await served.exited;
      served = undefined;
    } finally {
      lazyUnmountSync(mnt);
    }
    await repackStore(loc, { all: true }); // another writer commits generation 2
    const logged: string[] = [];
    let w = await openS3Writable(loc, {
      purpose: "test",
      workDir: work,
      log: (l) => logged.push(l),
    });
    assert.not.ok(w.checkout.resumed);
    assert.is(w.store.lookupPath("lost-race.txt"), undefined);
    await w.store.close();
    const aside = fs
      .readdirSync(path.dirname(work))
      .filter((n) => n.startsWith("work.unpublished-"));
    assert.is(aside.length, 1, logged.join("\n"));
    assert.match(logged.join("\n"), "moved them aside");
    assert.ok(fs.existsSync(path.join(path.dirname(work), aside[0]!, "open")));
    // a work directory closed cleanly is reused as it is: no publish, no download
    w = await openS3Writable(loc, { purpose: "test", workDir: work });
    assert.not.ok(w.checkout.resumed);
    await w.store.close();
    assert.is(await generation(loc), 2);
  },
);

/** Writes the object back with one byte flipped `fromEnd` bytes before its end. */
async function damage(loc: string, key: string, fromEnd: number): Promise<void> {
  const blobs = S3BlobStore.open(loc);
  try {
    const bytes = await blobs.get(key);
    bytes[bytes.length - fromEnd]! ^= 0x40;
    await blobs.put(key, bytes);
  } finally {
    await blobs.close();
  }
}

/** Differences of two trees but for directory mtimes (unlinks touched them at other times). */
function filesDiffer(a: string, b: string) {
  return compareTrees(a, b).filter(
    (d) => !(d.what.startsWith("mtime") && fs.lstatSync(path.join(a, d.path)).isDirectory()),
  );
}

async function extracted(loc: string): Promise<string> {
  const out = path.join(tmpDir("s3rw-out"), "out");
  await extractTree(loc, out);
  return out;
}

t("s3-rw - repack of an S3 store: smaller, published, old objects gone only after", async () => {
  const loc = await packed("repack");
  const w = await openS3Writable(loc, { purpose: "test", workDir: tmpDir("s3rw-rp") });
  const expect = path.join(tmpDir("s3rw-rp-expect"), "tree");
  assert.is(spawnSync("cp", ["-a", src, expect]).status, 0);
  for (const rel of ["a/b/big-v2.bin", "a/b/c/copy-of-big.bin", "text.txt", "holey.bin"]) {
    const { parent, name } = w.store.parentOf(rel);
    w.store.unlink(parent, name);
    fs.rmSync(path.join(expect, rel));
  }
  await w.store.close();
  const before = await objectsAndNamed(loc);
  const gen = await generation(loc);
  // a repack that dies before its metadata switch changes nothing committed
  await repackStore(loc, {
    all: true,
    beforeCommit: () => {
      throw new Error("killed before the switch");
    },
  }).then(
    () => assert.unreachable("the hook throws"),
    (err: Error) => assert.match(err.message, "killed before the switch"),
  );
  assert.is(await generation(loc), gen);
  assert.equal((await objectsAndNamed(loc)).named, before.named);
  assert.equal(filesDiffer(expect, await extracted(loc)), []);
  const s = await repackStore(loc, { all: true });
  assert.ok(s.written > 0 && s.storedBytesAfter < s.storedBytesBefore, JSON.stringify(s));
  assert.is(await generation(loc), gen + 1);
  const after = await objectsAndNamed(loc);
  assert.equal(after.inBucket, after.named, "retired objects and the dead run's orphans are gone");
  assert.ok(
    after.named.every((k) => !before.named.includes(k)),
    "every super-chunk was rewritten",
  );
  assert.equal(filesDiffer(expect, await extracted(loc)), []);
  const r = await fsckStore(loc);
  assert.ok(fsckClean(r), JSON.stringify(r.problems));
  console.log(
    `s3-rw: repack --all ${s.storedBytesBefore} -> ${s.storedBytesAfter} bytes in ${s.seconds.toFixed(2)} s`,
  );
});

t("s3-rw - a following reader meeting an object a repack deleted switches at once", async () => {
  const loc = await packed("follow-miss");
  const logged: string[] = [];
  const reader = await openFollowingS3Reader(loc, {
    cacheBytes: 1024 * 1024,
    follow: { intervalSeconds: 3600, log: (l) => logged.push(l) },
  });
  try {
    const ino = reader.lookupPath("a/b/big.bin")!;
    const want = fs.readFileSync(path.join(src, "a/b/big.bin"));
    assert.ok((await reader.read(ino, 0, 4096)).equals(want.subarray(0, 4096)));
    await repackStore(loc, { all: true }); // every object of generation 1 is deleted
    const got = await reader.read(ino, 0, want.length);
    assert.ok(got.equals(want), "read again from generation 2");
    assert.is(reader.follower.generation, 2);
    assert.match(logged.join("\n"), "generation 1 → 2");
  } finally {
    await reader.close();
  }
});

t("s3-rw - fsck --repair-from restores a damaged super-chunk object and publishes", async () => {
  const loc = await packed("repair");
  const victim = (await objectsAndNamed(loc)).named[0]!;
  await damage(loc, victim, 100);
  const broken = await fsckStore(loc);
  assert.ok(!fsckClean(broken) && broken.affectedFiles.length > 0);
  const r = await fsckStore(loc, { repairFrom: src });
  assert.ok(fsckClean(r), JSON.stringify(r.after?.problems));
  assert.ok(r.repairs.subBlocksRestored > 0);
  assert.is(await generation(loc), 2);
  const after = await objectsAndNamed(loc);
  assert.not.ok(after.inBucket.includes(victim), "the damaged object was deleted after the commit");
  assert.equal(after.inBucket, after.named);
  assert.ok(fsckClean(await fsckStore(loc)));
  assert.equal(compareTrees(src, await extracted(loc)), []);
});

test.run();
