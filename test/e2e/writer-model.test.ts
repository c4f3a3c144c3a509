/**
 * Model-based and crash tests of the writer: random operations against an in-memory
 * model (contents checked and refcounts recounted after every step), and a child process
 * killed with SIGKILL at random moments.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MetaDb } from "../../src/meta/meta-db.js";
import { initStore } from "../../src/store/store-init.js";
import { KIB } from "../../src/types.js";
import { WritableStore } from "../../src/writer/index.js";
import { expand, fileContent } from "../helpers/writer-content.js";

const dirs: string[] = [];
const ctx = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const B = (s: string) => Buffer.from(s);
const STEPS = Number(process.env.WRITER_MODEL_STEPS ?? 2000);

function newStore(): string {
  const d = mkdtempSync(join(tmpdir(), "sc-writer-model-"));
  dirs.push(d);
  const dir = join(d, "store");
  initStore(dir, { codec: "zstd", level: 1, superChunkBytes: 128 * KIB });
  return dir;
}

/** Fails unless every derived count matches a recount from the rows it counts. */
function checkRefcounts(dir: string, where: string): void {
  const db = MetaDb.open(join(dir, "superchunk.db"));
  try {
    const r = db.recomputeRefcounts();
    assert.equal(r, { contents: 0, subBlocks: 0, superChunks: 0 }, `refcounts at ${where}`);
  } finally {
    db.close();
  }
}

/** Fails if a frozen super-chunk with no live sub-block is still kept. */
function checkNoDeadKept(dir: string, where: string): void {
  const db = MetaDb.open(join(dir, "superchunk.db"));
  try {
    const dead = db.listSuperChunks().filter((s) => s.liveBytes === 0);
    assert.equal(dead, [], `dead super-chunks kept at ${where}`);
  } finally {
    db.close();
  }
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface ModelFile {
  data: Buffer;
}

class Model {
  names = new Map<string, ModelFile>();
  handles: { fh: number; file: ModelFile }[] = [];
}

const NAMES = ["a", "b", "c", "d", "e"];

async function step(s: WritableStore, m: Model, rnd: () => number, pick: <T>(xs: T[]) => T) {
  const op = rnd();
  const name = pick(NAMES);
  const file = m.names.get(name);
  if (op < 0.35) {
    let h = m.handles.find((x) => x.file === file);
    if (h === undefined) {
      if (file === undefined) {
        const { fh } = s.create(ctx, s.root, B(name), 0o644);
        const f = { data: Buffer.alloc(0) };
        m.names.set(name, f);
        h = { fh, file: f };
      } else h = { fh: s.open(s.lookup(s.root, B(name))!, 2), file };
      m.handles.push(h);
    }
    const off = Math.floor(rnd() * 200_000);
    const len = 1 + Math.floor(rnd() * 60_000);
    const data = rnd() < 0.5 ? expand(`p${Math.floor(rnd() * 3)}`, len) : expand(`r${rnd()}`, len);
    s.write(h.fh, data, off);
    const grown = Buffer.alloc(Math.max(h.file.data.length, off + len));
    h.file.data.copy(grown);
    data.copy(grown, off);
    h.file.data = grown;
    return `write ${name} ${off}+${len}`;
  }
  if (op < 0.45 && file !== undefined) {
    const size = Math.floor(rnd() * 250_000);
    await s.truncate(s.lookup(s.root, B(name))!, size);
    const t = Buffer.alloc(size);
    file.data.copy(t, 0, 0, Math.min(size, file.data.length));
    file.data = t;
    return `truncate ${name} ${size}`;
  }
  if (op < 0.6 && m.handles.length > 0) {
    const i = Math.floor(rnd() * m.handles.length);
    const h = m.handles[i]!;
    m.handles.splice(i, 1);
    if (rnd() < 0.3) await s.fsync(h.fh);
    await s.flush(h.fh);
    await s.release(h.fh);
    return "close";
  }
  if (op < 0.7 && file !== undefined) {
    s.unlink(s.root, B(name));
    m.names.delete(name);
    return `unlink ${name}`;
  }
  const other = pick(NAMES);
  if (op < 0.8 && file !== undefined && other !== name) {
    if (m.names.has(other)) s.unlink(s.root, B(other));
    s.link(s.lookup(s.root, B(name))!, s.root, B(other));
    m.names.set(other, file);
    return `link ${name} ${other}`;
  }
  if (op < 0.92 && file !== undefined && other !== name) {
    s.rename(s.root, B(name), s.root, B(other));
    if (m.names.get(other) === file) return `rename ${name} ${other} (same inode: no-op)`;
    m.names.set(other, file);
    m.names.delete(name);
    return `rename ${name} ${other}`;
  }
  return "noop";
}

async function checkModel(s: WritableStore, m: Model, where: string): Promise<void> {
  const listed = s
    .readdir(s.root)
    .map((e) => e.name.toString())
    .sort();
  assert.equal(listed, [...m.names.keys()].sort(), `names at ${where}`);
  for (const [name, f] of m.names) {
    const ino = s.lookup(s.root, B(name))!;
    assert.is(s.getattr(ino)!.size, f.data.length, `size of ${name} at ${where}`);
    const got = await s.read(ino, 0, f.data.length + 1);
    assert.ok(got.equals(f.data), `content of ${name} at ${where}`);
  }
}

test("writer - model: random operations keep contents and refcounts exact", async () => {
  const dir = newStore();
  const rnd = prng(0x5eed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const m = new Model();
  let s = await WritableStore.open(dir, { freezeIdleMs: 5 });
  try {
    for (let i = 0; i < STEPS; i++) {
      if (rnd() < 0.01) {
        for (const h of m.handles) await s.release(h.fh);
        m.handles = [];
        await s.close();
        checkNoDeadKept(dir, `reopen ${i}`);
        s = await WritableStore.open(dir, { freezeIdleMs: 5 });
      }
      const what = await step(s, m, rnd, pick);
      const where = `step ${i} (${what})`;
      await checkModel(s, m, where);
      checkRefcounts(dir, where);
    }
  } finally {
    await s.close();
  }
  checkRefcounts(dir, "end");
  checkNoDeadKept(dir, "end");
  assert.equal(s.backgroundErrors, []);
});

function runChild(dir: string, first: number, seed: number, killAfterMs: number) {
  const child = fileURLToPath(new URL("../helpers/writer-crash-child.js", import.meta.url));
  const p = spawn(process.execPath, [child, dir, String(first), String(seed)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => p.kill("SIGKILL"), killAfterMs);
  return new Promise<{ lines: string[]; err: string; signal: string | null }>((resolve) => {
    p.on("close", (_code, signal) => {
      clearTimeout(timer);
      resolve({
        lines: out.split("\n").filter((l) => l.endsWith("\n") || l.length > 0),
        err,
        signal,
      });
    });
  });
}

test("writer - crash: SIGKILL at random moments loses nothing closed", async () => {
  const dir = newStore();
  const rnd = prng(0xc0ffee);
  const closed = new Set<string>();
  const gone = new Set<string>();
  /** unlinks started; without "unlinked" after them the kill may have come before or after */
  const unlinking = new Set<string>();
  let next = 0;
  for (let round = 0; round < 8; round++) {
    const r = await runChild(dir, next, round + 1, 300 + Math.floor(rnd() * 1500));
    assert.is(r.signal, "SIGKILL", `child died on its own: ${r.err}`);
    for (const line of r.lines) {
      const [what, name] = line.split(" ");
      if (what === "closed") closed.add(name!);
      if (what === "unlinked") gone.add(name!);
      if (what === "unlinking") unlinking.add(name!);
      next = Math.max(next, Number(name!.slice(1)) + 1);
    }
    next += 1; // the file in flight may exist half-made: never reuse its name
    const s = await WritableStore.open(dir);
    try {
      for (const name of closed) {
        const ino = s.lookup(s.root, B(name));
        if (gone.has(name)) {
          assert.is(ino, undefined, `${name} was unlinked (round ${round})`);
          continue;
        }
        if (ino === undefined && unlinking.has(name)) {
          gone.add(name);
          continue;
        }
        assert.ok(ino !== undefined, `${name} closed before the kill (round ${round})`);
        const want = fileContent(name);
        assert.ok((await s.read(ino, 0, want.length + 1)).equals(want), `${name} intact`);
      }
    } finally {
      await s.close();
    }
    checkRefcounts(dir, `after crash ${round}`);
    checkNoDeadKept(dir, `after crash ${round}`);
  }
  assert.ok(closed.size > 8, `the child closed ${closed.size} files`);
});

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.run();
