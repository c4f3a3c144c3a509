/**
 * Signals during pack, through the real CLI (node dist/src/cli/main.js): SIGINT and SIGTERM
 * remove the partial store, print one line and exit 130 / 143; a kill -9 leaves the partial
 * store, which the next pack to the same destination names with the command to remove it.
 * Also: a destination in a missing directory is E_NOT_FOUND naming that directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cleanupTmp, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const MAIN = path.resolve("dist/src/cli/main.js");
const POLL_MS = 50;
const DEADLINE_MS = 60_000;

/** A tree slow to pack at level 19 on one thread: 16 MiB of base64 text, no duplicates. */
function slowTree(root: string): string {
  const src = path.join(root, "src");
  fs.mkdirSync(src, { recursive: true });
  for (let i = 0; i < 4; i++) {
    fs.writeFileSync(path.join(src, `t${i}.txt`), seededBytes(3 << 20, 100 + i).toString("base64"));
  }
  return src;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(args: string[]): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const ended = new Promise<Ended>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, ended };
}

/** Waits until `ready()` holds (polling), failing after a minute or when the child ended. */
async function until(what: string, ready: () => boolean, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`the command ended before ${what}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${DEADLINE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The entries beside `dest` named after it (its temporary names), and `dest` itself. */
function besides(dest: string): string[] {
  const base = path.basename(dest);
  return fs
    .readdirSync(path.dirname(dest))
    .filter((n) => n === base || n.startsWith(`.${base}.`) || n.startsWith(`..${base}.`));
}

/** Starts a slow pack into `dest`; resolves once its partial store holds a file. */
async function packStarted(src: string, dest: string) {
  const r = run(["pack", src, dest, "--level", "19", "--threads", "1", "--quiet"]);
  const partial = () =>
    besides(dest).find((n) => n.startsWith(`.${path.basename(dest)}.partial-${r.child.pid}-`));
  await until("the partial store", () => partial() !== undefined, r.child);
  // the pack is at work once something is in it (a signal now cannot be taken for a start-up one)
  await until(
    "work in the partial store",
    () => fs.readdirSync(path.join(path.dirname(dest), partial()!)).length > 0,
    r.child,
  );
  return { ...r, partial: path.join(path.dirname(dest), partial()!) };
}

for (const [sig, status] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`cli-signals - ${sig} during pack: partial removed, one line, exit ${status}`, async () => {
    const root = tmpDir("sig");
    const src = slowTree(root);
    const dest = path.join(root, "store");
    const p = await packStarted(src, dest);
    p.child.kill(sig);
    const e = await p.ended;
    assert.is(e.code, status, e.stderr);
    assert.is(e.stderr, "superchunk: interrupted, nothing written\n");
    assert.equal(besides(dest), [], "neither the store nor a partial is left");
  });
}

test("cli-signals - a partial left by kill -9 is named on the next pack", async () => {
  const root = tmpDir("sig9");
  const src = slowTree(root);
  const dest = path.join(root, "store");
  const p = await packStarted(src, dest);
  p.child.kill("SIGKILL");
  const e = await p.ended;
  assert.is(e.signal, "SIGKILL");
  assert.ok(fs.existsSync(p.partial), "kill -9 leaves the partial store");
  const small = path.join(root, "small");
  fs.mkdirSync(small);
  fs.writeFileSync(path.join(small, "a.txt"), "a\n");
  const again = run(["pack", small, dest, "--quiet"]);
  const r = await again.ended;
  assert.is(r.code, 0, r.stderr);
  assert.is(
    r.stderr,
    `superchunk: note: a partial store from an interrupted run is left at ${p.partial}; remove it with: rm -rf '${p.partial}'\n`,
  );
  assert.ok(fs.existsSync(p.partial), "the note removes nothing");
  assert.ok(fs.existsSync(path.join(dest, "superchunk.db.zst")), "the new pack is complete");
});

test("cli-signals - a destination in a missing directory names that directory", async () => {
  const root = tmpDir("sigmiss");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "a"), "a");
  for (const dest of ["nope/store", "nope/store.zip"]) {
    const r = await run(["pack", src, path.join(root, dest)]).ended;
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, `the directory ${path.join(root, "nope")} does not exist`);
    assert.match(r.stderr, "[E_NOT_FOUND]");
    assert.not.match(r.stderr, "partial");
  }
});

test.run();
