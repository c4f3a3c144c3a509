/**
 * Following an S3 store (`mount s3://… --read-only --follow`), against a real Ceph RADOS
 * Gateway (test/helpers/ceph.ts; skipped with a message when the ceph binaries are absent).
 * A writer is simulated honestly: a tree is packed into a local store directory, which is
 * published to S3 the way pack does (super-chunks, then a generation with commitGeneration);
 * a read-write FUSE mount of that directory then changes the tree (new super-chunks get new
 * ids), and the new super-chunks plus the new database are published as the next generation.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { DirBlobStore } from "../../src/blobstore/dir-blob-store.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import { mountCommand } from "../../src/cli/cmd-mount.js";
import { packCommand } from "../../src/cli/cmd-pack.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { isCode } from "../../src/errors.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { commitGeneration } from "../../src/s3store/s3-commit.js";
import { openFollowingS3Reader } from "../../src/s3store/s3-follow.js";
import { acquireS3Lease } from "../../src/s3store/s3-lease.js";
import { readPointer } from "../../src/s3store/s3-store.js";
import { encodePackedDatabase, PACKED_DB_SUFFIX } from "../../src/store/packed-db.js";
import { DB_FILE } from "../../src/store/store-layout.js";
import { captureIO } from "../helpers/cli-capture.js";
import { isMounted, mountDir, type ServedStore, serveStore } from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { suiteNeeding } from "../helpers/services.js";
import { makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const { test, t, skip, ceph } = suiteNeeding("s3-follow", ["ceph", "fuse"]);

const LOC = "s3://superchunk-follow/tree";
/** Fixed mtime of every path a change touches, so the two sides agree to the nanosecond. */
const CHANGED_MTIME_S = 1_700_000_000;
const WAIT_MS = 60_000;
/** the store directory the simulated writer works in */
let work = "";
/** the tree of each generation, as plain directories: [A, B, C] */
const trees: string[] = [];

const cliIO = () => captureIO({ runDir: true }).io;

test.before(async () => {
  if (skip) return;
  const a = path.join(tmpDir("follow-a"), "tree");
  fs.mkdirSync(a);
  makeSampleTree(a);
  trees.push(a);
  work = path.join(tmpDir("follow-work"), "store");
  const args = [a, work, "--quiet", "--superchunk-size", "256K"];
  assert.is(await packCommand.run(args, cliIO()), 0);
  assert.is(await publish(), 1);
});

/**
 * Publishes the work store as the next generation of LOC, as a writer does: under the
 * lease, every super-chunk object not there yet, then the packed database with
 * commitGeneration (a conditional switch of the pointer). Answers the generation.
 */
async function publish(): Promise<number> {
  const blobs = S3BlobStore.open(LOC);
  try {
    await blobs.ensureBucket();
    const lease = await acquireS3Lease(blobs, "s3-follow test writer");
    try {
      const have = new Set<string>();
      for await (const k of blobs.list("sc/")) have.add(k);
      const local = new DirBlobStore(work);
      for await (const key of local.list("sc/")) {
        if (key.endsWith(".sc") && !have.has(key)) await blobs.put(key, await local.get(key));
      }
      const base = await readPointer(blobs);
      return (await commitGeneration(blobs, packedDatabase(), base, lease)).generation;
    } finally {
      await lease.release();
    }
  } finally {
    await blobs.close();
  }
}

/** The work store's database in packed form (pack leaves it packed, a writer plain). */
function packedDatabase(): Buffer {
  const packed = path.join(work, `${DB_FILE}${PACKED_DB_SUFFIX}`);
  if (fs.existsSync(packed)) return fs.readFileSync(packed);
  const db = MetaDb.open(path.join(work, DB_FILE), { readonly: true });
  try {
    return encodePackedDatabase(db.serialize());
  } finally {
    db.close();
  }
}

/**
 * Makes the next tree: copies the newest one, applies `change` to the copy and, through a
 * read-write mount, to the work store; then sets the same mtime on every path it names.
 */
async function nextTree(change: (root: string) => string[]): Promise<string> {
  const next = path.join(tmpDir("follow-next"), "tree");
  const cp = spawnSync("cp", ["-a", trees.at(-1)!, next]);
  assert.is(cp.status, 0, String(cp.stderr));
  const rw = mountDir("follow-rw");
  const served = await serveStore(work, rw, ["-w"]);
  let touched: string[] = [];
  try {
    for (const root of [next, rw]) {
      touched = change(root);
      for (const p of touched) fs.utimesSync(path.join(root, p), CHANGED_MTIME_S, CHANGED_MTIME_S);
    }
  } finally {
    if (isMounted(rw)) await umountCommand.run([rw], cliIO());
  }
  assert.is(await served.exited, 0, served.stderr());
  trees.push(next);
  return next;
}

/** A: new super-chunks, an overwritten file, a removed hard link, a chmod, a deduped edit. */
function changeToB(root: string): string[] {
  const p = (...parts: string[]) => path.join(root, ...parts);
  fs.mkdirSync(p("new-dir"));
  fs.writeFileSync(p("new-dir", "fresh.bin"), seededBytes(700_000, 77));
  fs.writeFileSync(p("text.txt"), "changed text\n".repeat(5000));
  fs.unlinkSync(p("a", "small.bin"));
  fs.chmodSync(p("mode640"), 0o600);
  const v3 = fs.readFileSync(p("a", "b", "big.bin"));
  v3.write("a third version", 4_000_000);
  fs.writeFileSync(p("a", "b", "big-v3.bin"), v3);
  return ["new-dir/fresh.bin", "new-dir", "text.txt", "a/b/big-v3.bin", "a/b", "a", "."];
}

/** B: a file with new content, and a name that now names a new inode (stale path caches). */
function changeToC(root: string): string[] {
  fs.writeFileSync(path.join(root, "after-b.txt"), seededBytes(300_000, 78));
  fs.unlinkSync(path.join(root, "empty"));
  fs.writeFileSync(path.join(root, "empty"), "not empty any more\n");
  return ["after-b.txt", "empty", "."];
}

/** Resolves once `cond` holds; fails with `what` after WAIT_MS (a deadline, not a timing check). */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the mount at `mnt` shows exactly `tree` (the kernel may cache names for 1 s). */
async function untilShows(mnt: string, tree: string): Promise<void> {
  let diffs = compareMounted(tree, mnt);
  const deadline = Date.now() + WAIT_MS;
  while (diffs.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    diffs = compareMounted(tree, mnt);
  }
  assert.equal(diffs, []);
}

async function stop(mnt: string, served: ServedStore): Promise<void> {
  if (isMounted(mnt)) await umountCommand.run([mnt], cliIO());
  assert.is(await served.exited, 0, served.stderr());
}

test("s3-follow - --follow is refused with E_USAGE off s3://, with --read-write, or alone", async () => {
  const dir = tmpDir("follow-usage");
  const cases = [
    [dir, dir, "--follow"],
    ["s3://b/p", dir, "--follow", "--read-write"],
    ["s3://b/p", dir, "--follow-interval", "3"],
    ["s3://b/p", dir, "--follow", "--follow-interval", "0"],
  ];
  for (const args of cases) {
    try {
      await mountCommand.run(args, cliIO());
      assert.unreachable(`accepted: ${args.join(" ")}`);
    } catch (err) {
      assert.ok(isCode(err, "E_USAGE"), `${args.join(" ")}: ${String(err)}`);
    }
  }
  const { io, out } = captureIO({ runDir: true });
  assert.is(await mountCommand.run(["--help"], io), 0);
  assert.match(out(), "--follow-interval SECS");
});

t(
  "s3-follow - a reader switches generations on a poll; reads already started keep theirs",
  async () => {
    const lines: string[] = [];
    const r = await openFollowingS3Reader(LOC, {
      cacheBytes: 64 * 1024 * 1024,
      follow: { intervalSeconds: 3600, log: (l) => lines.push(l) },
    });
    try {
      assert.is(r.follower.generation, 1);
      assert.not.ok(await r.follower.poll(), "nothing new yet");
      const big = r.lookupPath("a/b/big.bin")!;
      const whole = await r.read(big, 0, 6 * 1024 * 1024); // the working set holds it now
      const text = r.lookupPath("text.txt")!;
      const before = r.epoch;
      await nextTree(changeToB);
      assert.is(await publish(), 2);
      const old = r.read(text, 0, 64); // resolved in generation 1, answered whenever
      assert.ok(await r.follower.poll(), "switched");
      assert.is((await old).toString(), "line of text\n".repeat(5).slice(0, 64));
      assert.is(r.follower.generation, 2);
      assert.is(r.epoch, before + 1);
      assert.is((await r.read(text, 0, 13)).toString(), "changed text\n");
      assert.is(r.lookupPath("a/small.bin"), undefined);
      assert.ok(r.lookupPath("new-dir/fresh.bin") !== undefined);
      assert.is(r.lookupPath("a/b/big.bin"), big, "an unchanged file keeps its inode");
      const hits = r.workingSetStats().hits;
      assert.ok((await r.read(big, 0, whole.length)).equals(whole));
      assert.ok(r.workingSetStats().hits > hits, "kept super-chunks are served from memory");
      assert.not.ok(await r.follower.poll(), "the same pointer again: nothing to do");
      assert.match(lines.join("\n"), "following: generation 1 → 2");
    } finally {
      await r.close();
    }
  },
);

t(
  "s3-follow - a --follow mount shows each new generation; a plain mount keeps its own",
  async () => {
    // the store is at generation 2 (tree B); both mounts show it, then C is published
    const [a, b] = [trees[0]!, trees[1]!];
    const follow = mountDir("follow-f");
    const plain = mountDir("follow-p");
    const f = await serveStore(LOC, follow, ["--read-only", "--follow", "--follow-interval", "1"]);
    let p: ServedStore | undefined;
    try {
      p = await serveStore(LOC, plain, ["--read-only"]);
      assert.equal(compareMounted(b, follow), []);
      assert.equal(compareMounted(b, plain), []);
      const ino = fs.statSync(path.join(follow, "a/b/big.bin")).ino;
      const fd = fs.openSync(path.join(follow, "a/b/big.bin"), "r");
      try {
        const c = await nextTree(changeToC);
        assert.is(await publish(), 3);
        await until("the follow mount logs the switch", () =>
          f.stderr().includes("following: generation 2 → 3"),
        );
        await untilShows(follow, c);
        assert.is(fs.statSync(path.join(follow, "a/b/big.bin")).ino, ino, "inode kept");
        const head = Buffer.alloc(4096);
        assert.is(fs.readSync(fd, head, 0, head.length, 1_000_000), head.length);
        const src = fs.readFileSync(path.join(a, "a/b/big.bin")).subarray(1_000_000, 1_004_096);
        assert.ok(head.equals(src), "a file open across the switch reads on");
      } finally {
        fs.closeSync(fd);
      }
      assert.equal(compareMounted(b, plain), [], "a mount without --follow keeps its generation");
      const info = fs.readFileSync("/proc/self/mountinfo", "utf8");
      const line = info.split("\n").find((l) => l.split(" ")[4] === follow) ?? "";
      assert.match(line, /\bro\b/);
    } finally {
      if (p) await stop(plain, p);
      await stop(follow, f);
    }
  },
);

t("s3-follow - polls survive a frozen gateway: logged, retried, never unmounted", async () => {
  const follow = mountDir("follow-pause");
  const f = await serveStore(LOC, follow, ["--read-only", "--follow", "--follow-interval", "1"]);
  try {
    assert.equal(compareMounted(trees.at(-1)!, follow), []);
    await ceph!.pauseGateway();
    try {
      await until("a failed poll is logged", () => /poll of .* failed/.test(f.stderr()));
    } finally {
      ceph!.resumeGateway();
    }
    assert.ok(isMounted(follow), "still mounted");
    assert.match(f.stderr(), "still serving generation 3");
    const d = await nextTree((root) => {
      fs.writeFileSync(path.join(root, "after-resume.txt"), "back\n");
      return ["after-resume.txt", "."];
    });
    assert.is(await publish(), 4);
    await until("the follow mount logs the switch", () =>
      f.stderr().includes("following: generation 3 → 4"),
    );
    await until("the recovery is logged", () => /answers again, after \d+ failed/.test(f.stderr()));
    await untilShows(follow, d);
  } finally {
    ceph!.resumeGateway();
    await stop(follow, f);
  }
  const failed = f
    .stderr()
    .split("\n")
    .filter((l) => l.includes("failed ("));
  console.log(`s3-follow: failure lines logged while frozen: ${failed.length}`);
});

test.run();
