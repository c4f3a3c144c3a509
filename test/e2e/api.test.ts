/**
 * The library API as a program uses it: every function of the package's entry
 * (dist/src/index.js) called in-process on a real tree; aborted calls (pack, extract,
 * repack, seal) reject with AbortError and leave nothing half-written; a real FUSE mount
 * and unmount; and importing the entry loads no FUSE binding.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as assert from "uvu/assert";
import * as api from "../../src/index.js";
import { isMounted, mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, makeSampleTree, seededBytes, tmpDir } from "../helpers/tree.js";

const { test, t } = suiteNeeding("api", ["fuse"]);
const INDEX = fileURLToPath(new URL("../../src/index.js", import.meta.url));

/** A sample tree and a store packed from it. */
async function packed(): Promise<{ root: string; src: string; store: string }> {
  const root = tmpDir("api");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await api.pack(src, store, { threads: 2, level: 3 });
  return { root, src, store };
}

/** Rejects unless `p` rejects with an AbortError E_ABORTED. */
async function rejectsAborted(p: Promise<unknown>): Promise<void> {
  await p.then(
    () => assert.unreachable("should have been aborted"),
    (err: unknown) => {
      assert.instance(err, api.AbortError);
      assert.is((err as Error).name, "AbortError");
      assert.ok(api.isCode(err, "E_ABORTED"), String(err));
    },
  );
}

test("api - pack, ls, openStore, stats, fsck, extract: the tree comes back", async () => {
  const { root, src, store } = await packed();
  const top = await api.ls(store);
  const names = fs.readdirSync(src, { encoding: "buffer" }).map((n) => n.toString());
  assert.equal(top.map((e) => e.name).sort(), names.sort());
  const deep = await api.ls(store, "/a", { recursive: true });
  assert.ok(deep.some((e) => e.path === "a/b/c/copy-of-big.bin" && e.kind === "file"));
  const link = top.find((e) => e.name === "link-to-hello");
  assert.equal([link?.kind, link?.target], ["symlink", "hello.txt"]);
  const s = await api.openStore(store);
  try {
    assert.equal(await s.readFile("a/b/big.bin"), fs.readFileSync(path.join(src, "a/b/big.bin")));
    const e = await s.stat("/mode640");
    assert.equal([e.kind, e.mode, e.size], ["file", 0o640, 1]);
    const parts: Buffer[] = [];
    for await (const c of s.createReadStream("text.txt", { start: 13, end: 25 })) parts.push(c);
    assert.is(Buffer.concat(parts).toString(), "line of text\n");
    await s.readFile("a").then(
      () => assert.unreachable("a directory"),
      (err) => assert.ok(api.isCode(err, "E_IS_DIR"), String(err)),
    );
    await s.stat("no/such").then(
      () => assert.unreachable("missing"),
      (err) => assert.ok(api.isCode(err, "E_NOT_FOUND"), String(err)),
    );
  } finally {
    await s.close();
  }
  await s.ls().then(
    () => assert.unreachable("closed"),
    (err) => assert.ok(api.isCode(err, "E_USAGE"), String(err)),
  );
  const st = await api.stats(store);
  assert.is(st.logicalBytes, (await api.stats(store, { path: "/" })).usage.logicalBytes);
  assert.ok(st.dedupRatio > 1, "the copies dedup");
  const report = await api.fsck(store);
  assert.ok(report.clean && report.errors === 0, JSON.stringify(report.problems));
  const out = path.join(root, "out");
  let progress = 0;
  const x = await api.extract(store, out, { onProgress: () => progress++ });
  assert.ok(progress > 0 && x.files > 0);
  assert.equal(compareTrees(src, out), []);
});

test("api - repack and seal, then the archive reads the same", async () => {
  const { root, src, store } = await packed();
  const r = await api.repack(store, { all: true, codec: "lz4", threads: 1 });
  assert.ok(r.selected > 0 && !r.dryRun);
  const archive = path.join(root, "store.zip");
  const sealed = await api.seal(store, archive);
  assert.is(sealed.archiveBytes, fs.statSync(archive).size);
  const out = path.join(root, "out");
  await api.extract(archive, out);
  assert.equal(compareTrees(src, out), []);
  assert.ok((await api.fsck(archive)).clean);
});

test("api - an aborted pack rejects with AbortError and leaves nothing", async () => {
  const root = tmpDir("api-abort");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  for (let i = 0; i < 8; i++)
    fs.writeFileSync(path.join(src, `f${i}`), seededBytes(300_000, i + 1));
  for (const name of ["store", "store.zip"]) {
    const ac = new AbortController();
    const phases: string[] = [];
    const run = api.pack(src, path.join(root, name), {
      threads: 1,
      signal: ac.signal,
      onProgress: (p) => {
        phases.push(p.phase);
        if (p.phase === "scan" && p.filesDone === 2) ac.abort();
      },
    });
    await rejectsAborted(run);
    assert.not.ok(phases.includes("write"), `stopped in the scan: ${phases.join(",")}`);
    assert.equal(fs.readdirSync(root).sort(), ["src"], `${name}: nothing left`);
  }
  // aborted before it starts
  await rejectsAborted(api.pack(src, path.join(root, "x"), { signal: AbortSignal.abort() }));
  assert.equal(fs.readdirSync(root), ["src"]);
});

test("api - an aborted extract removes what it made, and only that", async () => {
  const { root, store } = await packed();
  for (const existing of [false, true]) {
    const out = path.join(root, `out-${existing}`);
    if (existing) {
      fs.mkdirSync(path.join(out, "a"), { recursive: true });
      fs.writeFileSync(path.join(out, "keep.txt"), "mine");
    }
    const ac = new AbortController();
    const run = api.extract(store, out, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.filesDone === 6) ac.abort();
      },
    });
    await rejectsAborted(run);
    if (existing) {
      assert.equal(fs.readdirSync(out).sort(), ["a", "keep.txt"]);
      assert.equal(fs.readdirSync(path.join(out, "a")), []);
    } else assert.not.ok(fs.existsSync(out), "the destination it created is gone");
  }
});

test("api - an aborted repack leaves the store as it was, without new files", async () => {
  const { root, src, store } = await packed();
  const files = () => spawnSync("find", [store, "-type", "f"]).stdout.toString().split("\n").sort();
  const before = files().filter((f) => !f.includes("superchunk.db"));
  const ac = new AbortController();
  const run = api.repack(store, {
    all: true,
    threads: 1,
    signal: ac.signal,
    onProgress: (p) => {
      if (p.phase === "write") ac.abort();
    },
  });
  await rejectsAborted(run);
  assert.equal(
    files().filter((f) => !f.includes("superchunk.db")),
    before,
  );
  const report = await api.fsck(store);
  assert.ok(report.clean && report.warnings === 0, JSON.stringify(report.problems));
  await api.extract(store, path.join(root, "out"));
  assert.equal(compareTrees(src, path.join(root, "out")), []);
});

test("api - an aborted seal leaves no archive and no staging", async () => {
  const { root, store } = await packed();
  const out = path.join(root, "sealed.zip");
  await rejectsAborted(api.seal(store, out, { signal: AbortSignal.abort() }));
  assert.equal(fs.readdirSync(root).sort(), ["src", "store"]);
});

test("api - bad arguments are E_USAGE naming them", async () => {
  const cases: [string, () => Promise<unknown>][] = [
    ["store", () => api.ls("")],
    ["sources", () => api.pack([], "x")],
    ["signal", () => api.pack("a", "x", { signal: "no" as unknown as AbortSignal })],
    ["onProgress", () => api.extract("a", "b", { onProgress: 3 as unknown as () => void })],
  ];
  for (const [name, call] of cases) {
    await call().then(
      () => assert.unreachable(name),
      (err) => {
        assert.ok(api.isCode(err, "E_USAGE"), `${name}: ${String(err)}`);
        assert.match(String(err), name);
      },
    );
  }
  await api.ls(tmpDir("api-none")).then(
    () => assert.unreachable("not a store"),
    (err) => assert.ok(api.isCode(err, "E_NOT_A_STORE"), String(err)),
  );
});

test("api - importing the entry loads no FUSE binding", () => {
  const fuseLibs = `(await import("node:fs")).readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => /fuse/i.test(l) && /\\.node$|libfuse/.test(l)).length`;
  const run = (code: string) => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      encoding: "utf8",
    });
    assert.is(r.status, 0, r.stderr);
    const n = Number(r.stdout);
    assert.ok(Number.isInteger(n), `a count, got ${JSON.stringify(r.stdout)}`);
    return n;
  };
  const index = JSON.stringify(pathToFileURL(INDEX).href);
  assert.is(run(`await import(${index}); process.stdout.write(String(${fuseLibs}));`), 0);
  // the check sees a loaded binding: load it the way mount does, where it is built
  const addon = JSON.stringify(new URL("fuse/native-addon.js", pathToFileURL(INDEX)).href);
  const loaded = `const m = await import(${addon}); try { m.loadNativeAddon(); } catch { process.stdout.write("-1"); process.exit(0); } process.stdout.write(String(${fuseLibs}));`;
  const n = run(loaded);
  if (n !== -1) assert.ok(n > 0, "a loaded binding shows in the maps");
});

test("api - examples/library.mjs runs against the package entry and exits 0", () => {
  const example = fileURLToPath(new URL("../../../examples/library.mjs", import.meta.url));
  // inside the package "superchunk" resolves to itself (package.json exports)
  const r = spawnSync(process.execPath, [example], { encoding: "utf8" });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\nok\n$/);
});

t("api - mount read-only, read through the mount, unmount", async () => {
  const { src, store } = await packed();
  const mnt = mountDir("api");
  const m = await api.mount(store, mnt);
  try {
    assert.ok(m.readOnly && isMounted(m.mountpoint));
    assert.equal(
      await fs.promises.readFile(path.join(mnt, "a/b/big.bin")),
      fs.readFileSync(path.join(src, "a/b/big.bin")),
    );
    await fs.promises.writeFile(path.join(mnt, "new.txt"), "x").then(
      () => assert.unreachable("read-only"),
      (err: NodeJS.ErrnoException) => assert.is(err.code, "EROFS"),
    );
  } finally {
    await m.unmount();
  }
  assert.not.ok(isMounted(mnt));
  await m.unmount(); // idempotent
});

t("api - mount read-write: a file written there is in the store after unmount", async () => {
  const { store } = await packed();
  const mnt = mountDir("api-rw");
  const m = await api.mount(store, mnt, { readWrite: true });
  try {
    assert.not.ok(m.readOnly);
    await fs.promises.writeFile(path.join(mnt, "written.txt"), "through the API mount\n");
  } finally {
    await m.unmount();
  }
  assert.not.ok(isMounted(mnt));
  const s = await api.openStore(store);
  try {
    assert.is((await s.readFile("written.txt")).toString(), "through the API mount\n");
  } finally {
    await s.close();
  }
  assert.ok((await api.fsck(store)).clean);
});

test.run();
