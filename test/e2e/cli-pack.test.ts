import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { unpackDatabaseFile } from "../../src/store/packed-db.js";
import { cli } from "../helpers/cli-capture.js";
import { cleanupTmp, IS_ROOT, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const MAIN = path.resolve("dist/src/cli/main.js");

test("cli - help for the tool and every command", async () => {
  const top = await cli("--help");
  assert.is(top.code, 0);
  assert.match(top.out, "pack");
  for (const c of ["pack", "extract"]) {
    const r = await cli(c, "--help");
    assert.is(r.code, 0);
    assert.match(r.out, `Usage: superchunk ${c}`);
  }
  const bad = await cli("frobnicate");
  assert.is(bad.code, 2);
  assert.match(bad.err, "[E_USAGE]");
});

test("cli - pack --json summary and extract", async () => {
  const root = tmpDir("cli");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const r = await cli("pack", src, path.join(root, "store"), "--json", "--superchunk-size", "1M");
  assert.is(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.ok(s.storedBytes > 0 && s.logicalBytes > s.uniqueBytes);
  assert.is(s.version, 1);
  assert.is(s.command, "pack");
  const x = await cli("extract", path.join(root, "store"), path.join(root, "out"), "--quiet");
  assert.is(x.code, 0, x.err);
});

test("cli - bad input gives one line with a stable code and exit status", async () => {
  const root = tmpDir("cli");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "f"), "x");
  const cases: [string[], number, string][] = [
    [["pack", path.join(root, "missing"), path.join(root, "s")], 2, "E_SOURCE_MISSING"],
    [["pack", src, src], 2, "E_DEST_NOT_EMPTY"],
    [["pack", src, path.join(root, "s"), "--codec", "brotli"], 2, "E_USAGE"],
    [["pack", src, path.join(root, "s"), "--superchunk-size", "lots"], 2, "E_USAGE"],
    [["extract", src, path.join(root, "o")], 1, "E_NOT_A_STORE"],
    [["extract", path.join(root, "nowhere"), path.join(root, "o")], 1, "E_NOT_A_STORE"],
  ];
  for (const [argv, status, code] of cases) {
    const r = await cli(...argv);
    assert.is(r.code, status, argv.join(" "));
    assert.ok(r.code !== 0, argv.join(" "));
    assert.match(r.err, `[${code}]`, argv.join(" "));
    assert.not.match(r.err, "    at ", "no stack trace");
  }
});

test("cli - a store of a newer format version is refused", async () => {
  const root = tmpDir("cli");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "f"), "x");
  const store = path.join(root, "store");
  assert.is((await cli("pack", src, store, "--quiet")).code, 0);
  unpackDatabaseFile(path.join(store, "superchunk.db"));
  const db = new Database(path.join(store, "superchunk.db"));
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'format_version'").run();
  db.close();
  const r = await cli("extract", store, path.join(root, "out"));
  assert.is(r.code, 1);
  assert.match(r.err, "[E_FORMAT_VERSION]");
});

test("cli - an unreadable file is skipped with a warning and exit status 3", async () => {
  if (!IS_ROOT) return; // needs to switch to an unprivileged user
  const root = tmpDir("cli");
  fs.chmodSync(root, 0o777);
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "ok.txt"), "fine");
  fs.writeFileSync(path.join(src, "secret.txt"), "hidden");
  fs.chmodSync(path.join(src, "secret.txt"), 0o000);
  const r = spawnSync(
    "setpriv",
    [
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      process.execPath,
      MAIN,
      "pack",
      src,
      path.join(root, "store"),
    ],
    { encoding: "utf8" },
  );
  assert.is(r.status, 3, r.stderr);
  assert.match(r.stderr, "secret.txt");
  assert.match(r.stderr, "[E_UNREADABLE]");
  const x = await cli("extract", path.join(root, "store"), path.join(root, "out"), "--quiet");
  assert.is(x.code, 0);
  assert.ok(fs.existsSync(path.join(root, "out", "ok.txt")));
  assert.not.ok(fs.existsSync(path.join(root, "out", "secret.txt")));
});

test("cli - pack killed with SIGKILL never leaves an openable store", async () => {
  const root = tmpDir("kill");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  for (let i = 0; i < 12; i++)
    fs.writeFileSync(path.join(src, `f${i}`), seededBytes(3 * 1024 * 1024, 100 + i));
  for (const delayMs of [150, 600, 1200, 2500]) {
    const dest = path.join(root, `store-${delayMs}`);
    const child = spawn(
      process.execPath,
      [MAIN, "pack", src, dest, "--codec", "xz", "--level", "6", "--quiet"],
      { stdio: "ignore" },
    );
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    if (fs.existsSync(dest)) {
      // finished before the kill: then it must be complete and extract cleanly
      assert.is((await cli("extract", dest, path.join(root, `out-${delayMs}`), "--quiet")).code, 0);
      continue;
    }
    for (const name of fs
      .readdirSync(root)
      .filter((n) => n.startsWith(`.store-${delayMs}.partial-`))) {
      const r = await cli("extract", path.join(root, name), path.join(root, "o"));
      assert.is(r.code, 1, `partial ${name} must not open`);
      assert.ok(/\[E_STORE_INCOMPLETE\]|\[E_NOT_A_STORE\]/.test(r.err), r.err);
    }
  }
});

test.run();
