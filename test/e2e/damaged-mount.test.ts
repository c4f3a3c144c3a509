/**
 * A mount (read-only and read-write) of a store whose database was edited: the damaged
 * inode answers EIO on stat and read (logged by the server), every other file still serves
 * its bytes.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { captureIO } from "../helpers/cli-capture.js";
import { editDb, inoAt, refreshRowCrcs, smallStore } from "../helpers/damaged-store.js";
import { isMounted, mountDir, serveStore } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";

const { test, t, teardown } = suiteNeeding("damaged-mount", ["fuse"]);

let mnt: string | undefined;
teardown(async () => {
  if (mnt && isMounted(mnt)) await umountCommand.run([mnt], captureIO({ runDir: true }).io);
});

/** The errno code a promise rejects with, or "ok". */
async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

t("damaged-mount - a damaged inode is EIO on stat and read; the others serve", async () => {
  const { src, store } = await smallStore("dmg-mnt");
  editDb(store, (db) => {
    db.prepare("UPDATE inodes SET size = size + 1 WHERE ino = ?").run(inoAt(db, "a.txt"));
    refreshRowCrcs(db); // a hostile author: the row's own check passes, its size check not
    // damage: a time changed, the row's check value left as it was
    db.prepare("UPDATE inodes SET mtime_ns = mtime_ns + 1 WHERE ino = ?").run(inoAt(db, "d"));
  });
  mnt = mountDir();
  const served = await serveStore(store, mnt, ["--read-only"]);
  assert.is(await errnoOf(fsp.stat(path.join(mnt, "d"))), "EIO");
  assert.is(await errnoOf(fsp.stat(path.join(mnt, "a.txt"))), "EIO");
  assert.is(await errnoOf(fsp.readFile(path.join(mnt, "a.txt"))), "EIO");
  const good = await fsp.readFile(path.join(mnt, "b", "c.bin"));
  assert.ok(good.equals(fs.readFileSync(path.join(src, "b", "c.bin"))), "b/c.bin serves its bytes");
  assert.equal(await fsp.readdir(path.join(mnt, "b")), ["c.bin"]);
  // the damaged file's directory still lists, by name; only the file itself answers EIO
  assert.ok((await fsp.readdir(mnt)).includes("a.txt"), "the root still lists a.txt");
  assert.is(await fsp.readlink(path.join(mnt, "link")), "a.txt");
  await umountCommand.run([mnt], captureIO({ runDir: true }).io);
  assert.match(served.stderr(), /size \d+ differs from its content/);
  assert.match(served.stderr(), /check value does not match its attributes/);
});

t(
  "damaged-mount - read-write: the damaged file's directory still lists; the others serve",
  async () => {
    const { src, store } = await smallStore("dmg-rw");
    editDb(store, (db) => {
      db.prepare("UPDATE inodes SET size = size + 1 WHERE ino = ?").run(inoAt(db, "a.txt"));
      refreshRowCrcs(db); // a hostile author: the row's own check passes, its size check not
    });
    mnt = mountDir();
    await serveStore(store, mnt, ["-w"]);
    // the listing carries the attributes of the entries it can trust, the damaged one's name
    assert.equal((await fsp.readdir(mnt)).sort(), ["a.txt", "b", "d", "fifo", "link"]);
    const good = await fsp.readFile(path.join(mnt, "b", "c.bin"));
    assert.ok(
      good.equals(fs.readFileSync(path.join(src, "b", "c.bin"))),
      "b/c.bin serves its bytes",
    );
    assert.is(await errnoOf(fsp.readFile(path.join(mnt, "a.txt"))), "EIO");
    // its attributes are not handed out either: stat answers EIO, as on a read-only mount
    assert.is(await errnoOf(fsp.stat(path.join(mnt, "a.txt"))), "EIO");
    assert.is(await errnoOf(fsp.lstat(path.join(mnt, "a.txt"))), "EIO");
    await umountCommand.run([mnt], captureIO({ runDir: true }).io);
  },
);

test.run();
