/**
 * Verified reads through the kernel: a store whose super-chunk files were swapped serves no
 * wrong byte. Every file read through a read-only and through a read-write mount either
 * holds its source's bytes or fails with EIO, and the server's log names the super-chunk.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { packTree } from "../../src/pack/pack.js";
import { openStore } from "../../src/store/store-layout.js";
import { captureIO } from "../helpers/cli-capture.js";
import { isMounted, mountDir, serveStore } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { makeSampleTree, tmpDir } from "../helpers/tree.js";

const { test, t } = suiteNeeding("verified-mount", ["fuse"]);
const quiet = captureIO({ runDir: true }).io;

/** Regular files below `dir`, relative (UTF-8 names only: the ones a test can open by name). */
function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: "utf8" }) as string[]).filter(
    (rel) => !rel.includes("\uFFFD") && fs.lstatSync(path.join(dir, rel)).isFile(),
  );
}

/** Reads every file of `src` through `mnt`: answers how many gave EIO; none gives wrong bytes. */
function readAll(src: string, mnt: string): number {
  let eio = 0;
  for (const rel of files(src)) {
    try {
      const got = fs.readFileSync(path.join(mnt, rel));
      assert.ok(got.equals(fs.readFileSync(path.join(src, rel))), `${rel}: wrong bytes served`);
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, "EIO", `${rel}: ${String(err)}`);
      eio++;
    }
  }
  return eio;
}

t(
  "verified-mount - swapped super-chunks give EIO, named in the log, never wrong bytes",
  async () => {
    const root = tmpDir("vmount");
    const src = path.join(root, "src");
    fs.mkdirSync(src);
    makeSampleTree(src);
    const store = path.join(root, "store");
    await packTree(src, store, { threads: 2, superChunkBytes: 256 * 1024 });
    const { meta } = openStore(store, { readonly: true });
    const ids = meta
      .listSuperChunks()
      .map((r) => r.id as number)
      .sort((a, b) => a - b);
    meta.close();
    const [a, b] = [ids[1]!, ids[4]!];
    const fa = path.join(store, superChunkKey(a));
    const fb = path.join(store, superChunkKey(b));
    fs.renameSync(fa, `${fa}.tmp`);
    fs.renameSync(fb, fa);
    fs.renameSync(`${fa}.tmp`, fb);

    for (const mode of [[], ["-w"]]) {
      const mnt = mountDir("vmnt");
      const served = await serveStore(store, mnt, ["--cache-size", "16M", ...mode]);
      let eio = 0;
      try {
        eio = readAll(src, mnt);
      } finally {
        if (isMounted(mnt)) await umountCommand.run([mnt], quiet);
      }
      assert.is(await served.exited, 0, served.stderr());
      const log = served.stderr();
      assert.ok(eio >= 1, `${mode.join(" ") || "read-write"}: no read failed`);
      assert.match(log, "E_SUPERCHUNK_CORRUPT");
      assert.ok(
        log.includes(`super-chunk ${a}`) || log.includes(`super-chunk ${b}`),
        `log names neither ${a} nor ${b}: ${log}`,
      );
    }
  },
);

test.run();
