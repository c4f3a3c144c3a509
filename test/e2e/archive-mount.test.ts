/**
 * Mounting archives through the kernel: a local archive file and the same archive served by
 * nginx, each with the real `mount --foreground` command in a child process (so this process
 * can read the mount with sync calls). Every mount is unmounted in `finally`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { type SealedFixture, sealedFixture } from "../helpers/archive-fixture.js";
import { captureIO } from "../helpers/cli-capture.js";
import { isMounted, mountDir, type ServedStore, serveStore } from "../helpers/mount.js";
import { compareMounted } from "../helpers/mount-compare.js";
import { suiteNeeding } from "../helpers/services.js";

const { test, t, skip, nginx, startNginx } = suiteNeeding("archive-mount", ["fuse", "nginx"]);

let fx: SealedFixture;

test.before(async () => {
  if (skip) return;
  fx = await sealedFixture();
  await startNginx(path.join(fx.root, "www"));
});

const quiet = captureIO({ runDir: true }).io;

/** Serves `store` at a fresh mountpoint, runs `fn`, unmounts (always); answers the server's log. */
async function withServed(
  store: string,
  fn: (mnt: string, served: ServedStore) => Promise<void> | void,
): Promise<string> {
  const mnt = mountDir("arch-mnt");
  const served = await serveStore(store, mnt, ["--cache-size", "16M"]);
  try {
    await fn(mnt, served);
  } finally {
    if (isMounted(mnt)) await umountCommand.run([mnt], quiet);
  }
  assert.is(await served.exited, 0, served.stderr());
  assert.not.ok(isMounted(mnt));
  return served.stderr();
}

/** Bytes the server reported fetching in its unmount log line. */
function fetchedFrom(log: string): number {
  const m = /fetched (\d+) bytes in (\d+) requests/.exec(log);
  assert.ok(m, `no fetched count in: ${log}`);
  return Number(m![1]);
}

t("archive-mount - a local archive mounts and reads like the source, field by field", async () => {
  const log = await withServed(fx.archive, (mnt) => {
    assert.equal(compareMounted(fx.src, mnt), []);
    assert.throws(() => fs.writeFileSync(path.join(mnt, "new.txt"), "x"));
  });
  assert.ok(fetchedFrom(log) > 0);
});

t("archive-mount - an archive over HTTP (nginx) mounts and reads like the source", async () => {
  const log = await withServed(nginx!.url("tree.zip"), (mnt) => {
    assert.equal(compareMounted(fx.src, mnt), []);
  });
  const fetched = fetchedFrom(log);
  const size = fs.statSync(fx.archive).size;
  assert.ok(fetched >= size * 0.9, `reading everything fetched ${fetched} of ${size}`);
});

t(
  "archive-mount - over HTTP, reading one small file fetches a small part of the archive",
  async () => {
    const size = fs.statSync(fx.archive).size;
    const sentBefore = nginx!.bytesSent();
    const log = await withServed(nginx!.url("tree.zip"), (mnt) => {
      assert.is(fs.readFileSync(path.join(mnt, "hello.txt"), "utf8"), "hello, superchunk\n");
    });
    const fetched = fetchedFrom(log);
    assert.is(fetched, nginx!.bytesSent() - sentBefore, "the count matches nginx's access log");
    assert.ok(fetched < size / 4, `fetched ${fetched} of ${size} bytes`);
  },
);

test.run();
