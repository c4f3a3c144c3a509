/**
 * Mounts are read-only by default: `superchunk mount STORE MNT` (the real command, a
 * background server) serves a store directory read-only, answers EROFS to writes, and
 * leaves every file of the store as it was (sizes, times, bytes, the listing), whether its
 * database is packed (as pack leaves it) or plain (as a read-write mount leaves it).
 * `-w` opts in to writing; `--read-only` is still accepted.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { umountCommand } from "../../src/cli/cmd-umount.js";
import { runCli } from "../../src/cli/main.js";
import { captureIO } from "../helpers/cli-capture.js";
import { smallStore } from "../helpers/damaged-store.js";
import { isMounted, mountDir, serveStoreCli } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";

const { test, t, teardown } = suiteNeeding("mount-readonly", ["fuse"]);
const run = promisify(execFile);

const mounted: string[] = [];
teardown(async () => {
  for (const m of mounted) {
    if (isMounted(m)) await umountCommand.run([m], captureIO({ runDir: true }).io);
  }
});

/** Every path under `dir` with its kind, size, mtime and (for files) SHA-256. */
function snapshot(dir: string): string[] {
  const rows: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const st = fs.lstatSync(abs);
    const hash = st.isFile()
      ? createHash("sha256").update(fs.readFileSync(abs)).digest("hex")
      : st.isDirectory()
        ? fs.readdirSync(abs).sort().join("/")
        : "";
    rows.push(`${rel || "."} mode=${st.mode} size=${st.size} mtime=${st.mtimeMs} ${hash}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(abs).sort()) walk(path.join(rel, n));
  };
  walk("");
  return rows;
}

/** Runs `superchunk <argv>` in-process as the CLI does; the exit status and stderr. */
async function sc(...argv: string[]): Promise<{ code: number; err: string }> {
  const c = captureIO({ runDir: true });
  const code = await runCli(argv, c.io);
  return { code, err: c.err() };
}

/** The errno code a promise rejects with, or "ok". */
async function errnoOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "ok",
    (err: NodeJS.ErrnoException) => err.code ?? String(err),
  );
}

/** Mounts `store` with no flag, reads and tries writes, unmounts; the store is unchanged. */
async function readOnlyRoundTrip(store: string, src: string, extra: string[] = []): Promise<void> {
  const before = snapshot(store);
  const mnt = mountDir("ro-default");
  mounted.push(mnt);
  const m = await sc("mount", store, mnt, ...extra);
  assert.is(m.code, 0, m.err);
  try {
    assert.ok((await fsp.readdir(mnt)).includes("a.txt"));
    const st = await fsp.stat(path.join(mnt, "b", "c.bin"));
    assert.is(st.size, fs.statSync(path.join(src, "b", "c.bin")).size);
    const bytes = await fsp.readFile(path.join(mnt, "b", "c.bin"));
    assert.ok(bytes.equals(fs.readFileSync(path.join(src, "b", "c.bin"))));
    assert.is(await errnoOf(fsp.writeFile(path.join(mnt, "new.txt"), "x")), "EROFS");
    assert.is(await errnoOf(fsp.appendFile(path.join(mnt, "a.txt"), "x")), "EROFS");
    assert.is(await errnoOf(fsp.mkdir(path.join(mnt, "dir"))), "EROFS");
    assert.is(await errnoOf(fsp.unlink(path.join(mnt, "a.txt"))), "EROFS");
    const info = fs.readFileSync("/proc/self/mountinfo", "utf8");
    const line = info.split("\n").find((l) => l.split(" ")[4] === mnt) ?? "";
    assert.match(line.split(" ")[5] ?? "", /^ro\b/, line);
  } finally {
    const u = await sc("umount", mnt);
    assert.is(u.code, 0, u.err);
  }
  assert.equal(snapshot(store), before, "the store is byte-identical after a read-only mount");
}

t("mount-readonly - a packed store mounts read-only by default and is left untouched", async () => {
  const { src, store } = await smallStore("ro-packed");
  assert.ok(fs.existsSync(path.join(store, "superchunk.db.zst")), "pack leaves a packed database");
  await readOnlyRoundTrip(store, src);
  await readOnlyRoundTrip(store, src, ["--read-only"]);
});

t("mount-readonly - -w writes; a plain database then mounts read-only untouched", async () => {
  const { src, store } = await smallStore("ro-plain");
  const mnt = mountDir("rw-opt-in");
  mounted.push(mnt);
  const m = await sc("mount", "-w", store, mnt, "--compact-idle", "0");
  assert.is(m.code, 0, m.err);
  try {
    await fsp.writeFile(path.join(mnt, "new.txt"), "written through -w");
  } finally {
    assert.is((await sc("umount", mnt)).code, 0);
  }
  assert.ok(fs.existsSync(path.join(store, "superchunk.db")), "the writer left a plain database");
  assert.not.ok(fs.existsSync(path.join(store, "superchunk.db-wal")), "and checkpointed it");
  await readOnlyRoundTrip(store, src);
  const again = mountDir("ro-again");
  mounted.push(again);
  assert.is((await sc("mount", store, again)).code, 0);
  try {
    assert.is(await fsp.readFile(path.join(again, "new.txt"), "utf8"), "written through -w");
  } finally {
    assert.is((await sc("umount", again)).code, 0);
  }
});

t("mount-readonly - --read-write with --read-only, or on an archive, is E_USAGE", async () => {
  const { store, root } = await smallStore("ro-usage");
  const mnt = mountDir("ro-usage");
  const both = await sc("mount", store, mnt, "-w", "--read-only");
  assert.is(both.code, 2, both.err);
  assert.match(both.err, "[E_USAGE]");
  const zip = path.join(root, "s.zip");
  assert.is((await sc("seal", store, zip)).code, 0);
  const onZip = await sc("mount", zip, mnt, "--read-write");
  assert.is(onZip.code, 2, onZip.err);
  assert.match(onZip.err, /archive, always read-only \[E_USAGE\]/);
  assert.not.ok(isMounted(mnt));
});

t(
  "mount-readonly - --op-stats prints the requests served by op and the loads at unmount",
  async () => {
    const { store } = await smallStore("op-stats");
    const mnt = mountDir("op-stats");
    mounted.push(mnt);
    const served = await serveStoreCli(store, mnt, ["--op-stats"]);
    const bytes = (await fsp.readFile(path.join(mnt, "b", "c.bin"))).length;
    assert.is((await fsp.readFile(path.join(mnt, "a.txt"), "utf8")).length, 18_000);
    // ls -l asks each entry for its SELinux label and ACL: answered by the binding (the
    // store has none), while the store's own xattr still comes from the server
    const py = [
      "import os,sys",
      "p=sys.argv[1]",
      "for n in ('security.selinux','system.posix_acl_access','security.capability'):",
      "  try:\n    os.getxattr(p,n)\n  except OSError as e:\n    print(e.errno)",
      "print(len(os.getxattr(p,'user.superchunk.info'))>0)",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", py, path.join(mnt, "a.txt")]);
    assert.equal(stdout.trim().split("\n"), ["61", "61", "61", "True"]);
    await run("ls", ["-lR", mnt]);
    process.kill(served.pid, "SIGINT");
    assert.is(await served.exited, 0, served.stderr());
    const err = served.stderr();
    assert.match(err, /requests over [\d.]+ s, at most \d+ in flight/);
    const read = err.split("\n").find((l) => /^ +read /.test(l));
    assert.ok(read !== undefined, err);
    const cols = read!.trim().split(/ +/);
    assert.ok(Number(cols[1]) >= 1, "reads counted");
    assert.is(Number(cols[6]), bytes + 18_000, "bytes read");
    // the first open answered ENOSYS: the kernel opens files itself from then on
    const open = err.split("\n").find((l) => /^ +open /.test(l));
    assert.ok(
      open !== undefined && open.trim().split(/ +/)[1] === "1",
      `one open request: ${open}`,
    );
    assert.not.ok(/^ +release /m.test(err), "no release requests");
    const xattrs = err.split("\n").find((l) => /^ +getxattr /.test(l));
    // only the info xattr reached the server: no ENODATA answer came from it
    assert.ok(xattrs !== undefined && xattrs.trim().split(/ +/)[2] === "0", `${xattrs}`);
    assert.match(err, /working set: \d+ hits, \d+ misses .* \d+ loads.* for inflated super-chunks/);
    // the server's memory: resident, its peak (never below what is resident), the V8 heap
    const mem = /memory: ([\d.]+) (\w+) resident \(peak ([\d.]+) (\w+)\), V8 heap/.exec(err);
    assert.ok(mem !== null, err);
    const mib = (n: string, unit: string) =>
      Number(n) * (unit === "GiB" ? 1024 : unit === "KiB" ? 1 / 1024 : 1);
    assert.ok(mib(mem![3]!, mem![4]!) >= mib(mem![1]!, mem![2]!), mem![0]);
  },
);

test.run();
