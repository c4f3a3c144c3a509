/**
 * repack after deletes made through a read-write mount: a packed store is mounted read-write,
 * half its files are deleted through the kernel, and after the unmount `repack` must shrink
 * the store, leave fsck clean, and keep every remaining file byte for byte.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { extractTree } from "../../src/export/extract.js";
import { fsckClean, fsckStore } from "../../src/maintain/fsck.js";
import { repackStore } from "../../src/maintain/repack.js";
import { packTree } from "../../src/pack/pack.js";
import { initStore } from "../../src/store/store-init.js";
import { ROOT_CALLER, WritableStore } from "../../src/writer/index.js";
import { captureIO } from "../helpers/cli-capture.js";
import { forceUnmountAll, mountDir, type ServedStore, serveStore } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const { test, t: mountTest } = suiteNeeding("repack-mount", ["fuse"]);
const cliIO = () => captureIO({ runDir: true }).io;

/** Regular files under `root` whose names are UTF-8, relative paths, sorted. */
function files(root: string, rel = ""): string[] {
  const out: string[] = [];
  const dir = path.join(root, rel);
  for (const e of fs.readdirSync(dir, { withFileTypes: true, encoding: "buffer" })) {
    const name = e.name.toString("utf8");
    if (!Buffer.from(name, "utf8").equals(e.name)) continue;
    const p = rel === "" ? name : `${rel}/${name}`;
    if (e.isDirectory()) out.push(...files(root, p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Bytes of the store's super-chunk files. */
function superChunkBytes(store: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".sc")) n += fs.statSync(p).size;
    }
  };
  walk(path.join(store, "sc"));
  return n;
}

mountTest(
  "repack-mount - deletes through the mount, then repack shrinks and keeps the rest",
  async () => {
    const src = tmpDir("rpm-src");
    makeSampleTree(src);
    // distinct content per file, so deleting files frees sub-blocks
    for (let i = 0; i < 12; i++) {
      const buf = Buffer.alloc(300_000);
      for (let j = 0; j < buf.length; j++) buf[j] = (j * 7 + i * 131 + (j >> 9)) & 0xff;
      fs.writeFileSync(path.join(src, `extra-${i}.bin`), buf);
    }
    const store = path.join(tmpDir("rpm-store"), "store");
    await packTree(src, store, { threads: 2, superChunkBytes: 1024 * 1024 });
    const all = files(src).filter((f) => fs.lstatSync(path.join(src, f)).nlink === 1);
    const gone = all.filter((_, i) => i % 2 === 0);
    const mnt = mountDir("rpm");
    // no compaction at unmount: this test is about repack reclaiming the dead bytes
    let served: ServedStore | undefined = await serveStore(store, mnt, [
      "-w",
      "--compact-idle",
      "0",
    ]);
    try {
      for (const f of gone) fs.unlinkSync(path.join(mnt, f));
      assert.is(await umountCommand.run([mnt], cliIO()), 0);
      assert.is(await served.exited, 0, served.stderr());
      served = undefined;
    } finally {
      if (served) forceUnmountAll();
    }
    const before = superChunkBytes(store);
    const summary = await repackStore(store, {});
    const after = superChunkBytes(store);
    assert.ok(after < before, `repack shrank the super-chunks: ${before} -> ${after}`);
    assert.ok(summary !== undefined);
    const report = await fsckStore(store, {});
    assert.ok(fsckClean(report), JSON.stringify(report.problems ?? report, null, 1).slice(0, 800));
    const out = tmpDir("rpm-out");
    await extractTree(store, out);
    for (const f of gone) assert.not.ok(fs.existsSync(path.join(out, f)), `${f} is gone`);
    for (const f of all.filter((x) => !gone.includes(x))) {
      assert.ok(
        fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(src, f))),
        `${f} reads back identical`,
      );
    }
  },
);

test("repack-mount - a store grown by writes reaches a fresh pack's size with repack --all", async () => {
  // ten "releases" of four incompressible files, each a few small edits of the last: written
  // in path order, the versions of one file land in different super-chunks; regrouped by
  // similarity, each edited sub-block sits next to its older versions and compresses
  const src = tmpDir("rpa-src");
  const files = ["a", "b", "c", "d"].map((n, k) => ({ n, data: seededBytes(400_000, 77 + k) }));
  const store = path.join(tmpDir("rpa-store"), "store");
  initStore(store, { superChunkBytes: 1024 * 1024 });
  const w = await WritableStore.open(store, { freezeIdleMs: 60_000 });
  try {
    for (let v = 0; v < 10; v++) {
      fs.mkdirSync(path.join(src, `v${v}`));
      const dir = w.mkdir(ROOT_CALLER, w.root, Buffer.from(`v${v}`), 0o755);
      for (const f of files) {
        for (let e = 0; e < 3; e++)
          f.data.fill(
            v + e,
            (v * 131_071 + e * 97_003) % 399_000,
            ((v * 131_071 + e * 97_003) % 399_000) + 24,
          );
        fs.writeFileSync(path.join(src, `v${v}`, f.n), f.data);
        const { fh } = w.create(ROOT_CALLER, dir.ino, Buffer.from(f.n), 0o644);
        w.write(fh, f.data, 0);
        await w.flush(fh);
        await w.release(fh);
      }
    }
  } finally {
    await w.close();
  }
  const grown = superChunkBytes(store);
  await repackStore(store, { all: true });
  const repacked = superChunkBytes(store);
  const fresh = path.join(tmpDir("rpa-pack"), "store");
  await packTree(src, fresh, { threads: 2, superChunkBytes: 1024 * 1024 });
  const packed = superChunkBytes(fresh);
  assert.ok(repacked < grown, `repack --all shrank the grown store: ${grown} -> ${repacked}`);
  assert.ok(repacked <= packed * 1.05, `within 5% of a fresh pack: ${repacked} vs ${packed}`);
});

test.run();
