/**
 * The FUSE binding is needed by `mount` alone: every other command runs, as a child process,
 * with SUPERCHUNK_FUSE_ADDON pointing at a probe that records each load and then fails; only
 * pack and repack may try it (for the allocator setting it makes at load) and run on without. `mount` then fails with one E_NO_FUSE line naming what to
 * install: for a binding that will not load, and for a real build whose libfuse is missing
 * (a copy of the binding that names a libfuse3 soname no machine has).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as assert from "uvu/assert";
import { nativeAddonFile } from "../../src/fuse/native-addon.js";
import { mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { makeSampleTree, tmpDir } from "../helpers/tree.js";

const MAIN = path.resolve("dist/src/cli/main.js");
const { test, t } = suiteNeeding("cli-without-fuse", ["fuse"]);

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI as a child process with `env` added to this process's environment. */
function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, SUPERCHUNK_DEBUG: "", ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/** A probe to load instead of the binding: it appends to `log` and throws. */
function probe(root: string): { env: NodeJS.ProcessEnv; log: string } {
  const log = path.join(root, "addon-loads.log");
  const file = path.join(root, "probe.cjs");
  fs.writeFileSync(
    file,
    `require("node:fs").appendFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(" ") + "\\n");\n` +
      `throw new Error("probe: not a FUSE binding");\n`,
  );
  return { env: { SUPERCHUNK_FUSE_ADDON: file, SUPERCHUNK_RUN_DIR: root }, log };
}

const loads = (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "");

test("cli-without-fuse - every command but mount runs without loading the binding", async () => {
  const root = tmpDir("nofuse");
  const { env, log } = probe(root);
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  const help = await cli(env, "--help");
  const ok: string[][] = [
    ["pack", src, store, "--quiet"],
    ["extract", store, path.join(root, "out"), "--quiet"],
    ["stats", store],
    ["fsck", store],
    ["repack", store, "--dry-run"],
    ["seal", store, path.join(root, "sealed.zip")],
    ["init", path.join(root, "empty")],
    ["mount", "--help"],
  ];
  if (/^\s+ls\s/m.test(help.out)) ok.push(["ls", store]);
  for (const argv of ok) {
    const r = await cli(env, ...argv);
    assert.is(r.code, 0, `${argv.join(" ")}: ${r.err}`);
  }
  const notMounted = path.join(root, "nothing-here");
  fs.mkdirSync(notMounted);
  const u = await cli(env, "umount", notMounted);
  assert.ok(u.code !== 0, "umount of a directory that is not mounted fails");
  assert.not.match(u.err, "E_NO_FUSE");
  const tried = loads(log)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ")[0]);
  assert.ok(
    tried.every((c) => c === "pack" || c === "repack"),
    `only pack and repack try the binding: ${tried.join(", ")}`,
  );
});

t("cli-without-fuse - mount with an unloadable binding: one E_NO_FUSE line", async () => {
  const root = tmpDir("nofuse");
  const { env, log } = probe(root);
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "f"), "x");
  const store = path.join(root, "store");
  assert.is((await cli(env, "pack", src, store, "--quiet")).code, 0);
  for (const fg of [["--foreground"], []]) {
    const r = await cli(env, "mount", store, mountDir(), ...fg);
    assert.ok(r.code !== 0 && r.code !== null, r.err);
    assert.match(r.err, /^superchunk mount: mount cannot load the FUSE binding .*\[E_NO_FUSE\]$/m);
    assert.not.match(r.err, "    at ");
  }
  assert.match(loads(log), /^mount /m, "mount tried the binding");
});

t("cli-without-fuse - mount without libfuse 3 says what to install", async () => {
  const root = tmpDir("nofuse");
  const real = nativeAddonFile({});
  const bytes = fs.readFileSync(real);
  const soname = Buffer.from("libfuse3.so.3\0");
  const at = bytes.indexOf(soname);
  assert.ok(at >= 0, `${real} names libfuse3.so.3`);
  // same length, a soname no machine has: the dynamic loader fails as without libfuse3
  bytes.write("libfuse3.so.0", at, "latin1");
  const copy = path.join(root, "superchunk.node");
  fs.writeFileSync(copy, bytes);
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "f"), "x");
  const store = path.join(root, "store");
  const env = { SUPERCHUNK_FUSE_ADDON: copy, SUPERCHUNK_RUN_DIR: root };
  assert.is((await cli(env, "pack", src, store, "--quiet")).code, 0);
  const r = await cli(env, "mount", store, mountDir(), "--foreground");
  assert.ok(r.code !== 0 && r.code !== null, r.err);
  assert.match(
    r.err,
    "mount needs libfuse 3 (libfuse3.so.0 is not installed): " +
      "install it with 'apt-get install fuse3' [E_NO_FUSE]",
  );
  assert.not.match(r.err, "cannot open shared object file", "not the dynamic loader's text");
  assert.not.match(r.err, "    at ");
});

test.run();
