import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { superChunkKey } from "../../src/blobstore/blob-store.js";
import { openDatabase } from "../../src/meta/open-db.js";
import { packTree } from "../../src/pack/pack.js";
import { DB_FILE, openStore } from "../../src/store/store-layout.js";
import { cleanupTmp, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

interface Run {
  status: number | null;
  out: string;
  err: string;
}

/** Runs `node -e script` with `main.js`'s exports in `m`, as a child process. */
function runScript(body: string, args: string[] = []): Run {
  const script = `import(${JSON.stringify(MAIN)}).then((m) => {\n${body}\n});`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, ...args], {
    encoding: "utf8",
    env: { ...process.env, SUPERCHUNK_DEBUG: "" },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** Runs the CLI as a child process. */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, SUPERCHUNK_DEBUG: "" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("close", (status) => resolve({ status, out, err }));
  });
}

const io = "{ stdout: process.stdout, stderr: process.stderr, isTTY: false, env: process.env }";
const command = (name: string, run: string) =>
  `{ name: ${JSON.stringify(name)}, summary: "", usage: "", run: ${run} }`;

test("cli exit - a command whose promise never settles exits 1 with E_INTERNAL", () => {
  // nothing is left to run while the command is pending: the event loop empties
  const r = runScript(
    `m.runProcess(["hang"], ${io}, [${command("hang", "() => new Promise(() => {})")}]);`,
  );
  assert.is(r.status, 1, r.err);
  assert.is(r.err, "superchunk hang: command ended without finishing [E_INTERNAL]\n");
});

test("cli exit - a command that finishes keeps its status; nothing more is printed", () => {
  const r = runScript(`m.runProcess(["ok"], ${io}, [${command("ok", "async () => 3")}]);`);
  assert.is(r.status, 3);
  assert.is(r.err, "");
});

test("cli exit - an internal error is one line without a stack; --debug adds the stack", () => {
  const boom = command("boom", "async () => { throw new TypeError('x is undefined'); }");
  const r = runScript(`m.runProcess(["boom"], ${io}, [${boom}]);`);
  assert.is(r.status, 1);
  assert.is(r.err, "superchunk boom: internal error: x is undefined [E_INTERNAL]\n");
  const d = runScript(`m.runProcess(["--debug", "boom"], ${io}, [${boom}]);`);
  assert.is(d.status, 1);
  assert.match(d.err, /^superchunk boom: internal error: x is undefined \[E_INTERNAL\]\n/);
  assert.match(d.err, /\n\s+at /);
});

test("cli exit - an unhandled rejection while the command runs: one line, status 1", () => {
  const run =
    "() => { Promise.reject(new Error('stray')); return new Promise((r) => setTimeout(() => r(0), 2000)); }";
  const r = runScript(`m.runProcess(["stray"], ${io}, [${command("stray", run)}]);`);
  assert.is(r.status, 1);
  assert.is(r.err, "superchunk stray: internal error: stray [E_INTERNAL]\n");
});

test("cli exit - an error after the command failed is not a second error", () => {
  const run =
    "async () => { setTimeout(() => Promise.reject(new Error('codec pool is closed')), 10); throw new TypeError('first'); }";
  const r = runScript(`m.runProcess(["twice"], ${io}, [${command("twice", run)}]);`);
  assert.is(r.status, 1);
  assert.is(r.err, "superchunk twice: internal error: first [E_INTERNAL]\n");
});

/**
 * A store (the sample tree, or a few small files) whose larger files are recorded bigger
 * than their contents: a read of one loads its super-chunks, then finds no extent.
 */
async function damagedStore(small = false): Promise<string> {
  const root = tmpDir("cli-exit");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  if (small) {
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(src, `f${i}`), seededBytes(200_000, i));
  } else makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: small ? 256 * 1024 : 512 * 1024 });
  openStore(store, { readonly: false }).meta.close();
  const db = openDatabase(path.join(store, DB_FILE), false);
  const big = small ? 100_000 : 1_000_000;
  db.prepare("UPDATE inodes SET size = size + 5000000 WHERE kind = 1 AND size > ?").run(big);
  db.close();
  return store;
}

test("cli exit - extract of a file bigger than its content: one coded line, no second error", async () => {
  const store = await damagedStore();
  const r = await cli(["extract", store, path.join(path.dirname(store), "out")]);
  assert.is(r.status, 1);
  const lines = r.err
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("hint: "));
  assert.is(lines.length, 1, r.err);
  assert.match(lines[0]!, /^superchunk extract: .* \[E_[A-Z_]+\]$/);
  assert.not.match(r.err, /pool is closed|\n\s+at /);
});

test("cli exit - 30 runs against a damaged store, two at a time: none exits 0", async () => {
  const store = await damagedStore(true);
  const { meta } = openStore(store, { readonly: true });
  const last = meta.listSuperChunks().at(-1)!;
  meta.close();
  fs.appendFileSync(path.join(store, superChunkKey(last.id)), "trailing garbage");
  const statuses = new Map<string, number>();
  const one = async (i: number) => {
    const out = path.join(path.dirname(store), `out-${i}`);
    const args = i % 2 === 0 ? ["fsck", store] : ["extract", store, out];
    const r = await cli(args);
    const key = `${args[0]} ${r.status}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    assert.ok(r.status !== 0, `${args.join(" ")} exited 0: ${r.out}${r.err}`);
    assert.not.match(r.err, /\n\s+at /);
  };
  for (let i = 0; i < 30; i += 2) await Promise.all([one(i), one(i + 1)]);
  console.log(`    outcomes of 30 runs: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.is([...statuses.keys()].filter((k) => k.endsWith(" 0")).length, 0);
});

test.run();
