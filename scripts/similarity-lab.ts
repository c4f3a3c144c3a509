/**
 * Similarity lab: measures how the order of unique sub-blocks in super-chunks changes the
 * compressed size of a multi-version corpus, and what it costs.
 *
 *   node dist/scripts/similarity-lab.js /tmp/corpus [--variants a,b,...] [--newest DIR]
 *        [--filter REGEX] [--groups] [--check] [--dump DIR] [--avg BYTES]
 *
 * Walks the tree in path order (sorted names), cuts files into sub-blocks (src/chunker, default
 * params), dedups them by SHA-256, sketches the unique ones, plans super-chunks for each variant,
 * builds each group's bytes, compresses them (zstd or xz, on two worker threads) and prints one
 * row per variant: groups, payload / raw (and with 36 header bytes per sub-block), sketch / plan
 * / compress times, and the super-chunks the newest release (last top-level directory, or
 * --newest) touches: how many, their raw MiB, and the raw MiB up to the last sub-block it needs
 * in each (what a reader that stops inflating early would pay).
 *
 * --filter keeps only files whose relative path matches; --groups describes every group;
 * --check re-hashes every sub-block read back; --dump writes each group's raw bytes to DIR;
 * --avg sets the chunker's average sub-block size (default 32 KiB).
 * A research harness, not a product: it calls the codecs directly.
 */

import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import * as zstd from "zstd-napi";
import { chunkerParams } from "../src/chunker/chunker-params.js";
import { cutAll } from "../src/chunker/fastcdc.js";
import { candidateEdges } from "../src/similarity/lsh-candidates.js";
import { packRuns } from "../src/similarity/pack-groups.js";
import {
  type PlanItem,
  planWith,
  SIMILARITY_DEFAULTS,
  type SimilarityTuning,
} from "../src/similarity/plan.js";
import { SKETCH_DEFAULTS, type SketchParams, sketchWith } from "../src/similarity/sketch.js";

const MIB = 1024 * 1024;
const AVG = process.argv.indexOf("--avg");
const CHUNKER = chunkerParams(AVG > 0 ? { avgBytes: Number(process.argv[AVG + 1]) } : {});
const CHECK = process.argv.includes("--check");
const DUMP =
  process.argv.indexOf("--dump") > 0 ? process.argv[process.argv.indexOf("--dump") + 1] : undefined;

// ---------------------------------------------------------------- codec worker

interface Job {
  id: number;
  codec: string;
  level: number;
  buf: Uint8Array;
  /** raw bytes the decoder would already hold (zstd raw-content dictionary / prefix) */
  dict?: Uint8Array;
}

interface LzmaLike {
  compress(buf: Buffer, opt: { preset: number }): Promise<Buffer>;
  PRESET_EXTREME?: number;
}

async function compressJob(job: Job): Promise<number> {
  if (job.codec === "zstd" && job.dict !== undefined) {
    const cmp = new zstd.Compressor();
    cmp.setParameters({ compressionLevel: job.level });
    cmp.loadDictionary(job.dict);
    return cmp.compress(job.buf).length;
  }
  if (job.codec === "zstd") return zstd.compress(job.buf, { compressionLevel: job.level }).length;
  const lzma = createRequire(import.meta.url)("lzma-native") as LzmaLike;
  const preset = job.level >= 10 ? 9 | (lzma.PRESET_EXTREME ?? 0) : job.level;
  const out = await lzma.compress(Buffer.from(job.buf.buffer, job.buf.byteOffset, job.buf.length), {
    preset,
  });
  return out.length;
}

if (!isMainThread) {
  parentPort!.on("message", (job: Job) => {
    void compressJob(job).then((size) => parentPort!.postMessage({ id: job.id, size }));
  });
}

// ---------------------------------------------------------------- corpus walk and chunking

interface FileRec {
  abs: string;
  rel: string;
  size: number;
}

function walk(root: string, dir = root, out: FileRec[] = []): FileRec[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) walk(root, abs, out);
    else if (e.isFile()) out.push({ abs, rel: relative(root, abs), size: 0 });
  }
  return out;
}

interface Unique {
  hash: string;
  file: number;
  offset: number;
  length: number;
}

interface Corpus {
  files: FileRec[];
  uniques: Unique[];
  rawBytes: number;
  /** unique indices referenced by the newest release */
  newest: Set<number>;
  chunkMs: number;
}

function loadCorpus(root: string, newestDir: string): Corpus {
  const t0 = performance.now();
  const filter = process.argv.indexOf("--filter");
  const re = filter > 0 ? new RegExp(process.argv[filter + 1]!) : undefined;
  const files = walk(root).filter((f) => re === undefined || re.test(f.rel));
  const index = new Map<string, number>();
  const uniques: Unique[] = [];
  const newest = new Set<number>();
  let rawBytes = 0;
  files.forEach((f, fi) => {
    const data = readFileSync(f.abs);
    f.size = data.length;
    rawBytes += data.length;
    let start = 0;
    for (const length of cutAll(data, CHUNKER)) {
      const cut = start + length;
      const key = createHash("sha256").update(data.subarray(start, cut)).digest("hex");
      let u = index.get(key);
      if (u === undefined) {
        u = uniques.length;
        index.set(key, u);
        uniques.push({ hash: key, file: fi, offset: start, length: cut - start });
      }
      if (f.rel.startsWith(`${newestDir}/`)) newest.add(u);
      start = cut;
    }
  });
  return { files, uniques, rawBytes, newest, chunkMs: performance.now() - t0 };
}

function readUnique(c: Corpus, u: Unique, into: Uint8Array, at: number): void {
  const fd = openSync(c.files[u.file]!.abs, "r");
  try {
    readSync(fd, into, at, u.length, u.offset);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- variants

interface Variant {
  name: string;
  /** "chain": the greedy-chaining prototype, re-implemented here for comparison */
  order: "path" | "similarity" | "chain";
  sketch: SketchParams;
  tuning: SimilarityTuning;
  codec: "zstd" | "xz";
  level: number;
  targetBytes: number;
  /** lab only: cut each planned group into consecutive pieces of at most this many bytes */
  splitTo?: number;
  /** lab only: compress some groups with another group's raw bytes as a zstd dictionary */
  prefix?: "pairs" | "chain";
}

function variant(
  name: string,
  over: Partial<Variant> & { t?: Partial<SimilarityTuning>; s?: Partial<SketchParams> },
): Variant {
  return {
    name,
    order: over.order ?? "similarity",
    sketch: { ...SKETCH_DEFAULTS, ...over.s },
    tuning: { ...SIMILARITY_DEFAULTS, ...over.t },
    codec: over.codec ?? "zstd",
    level: over.level ?? 19,
    targetBytes: over.targetBytes ?? 4 * MIB,
    ...(over.splitTo === undefined ? {} : { splitTo: over.splitTo }),
    ...(over.prefix === undefined ? {} : { prefix: over.prefix }),
  };
}

const VARIANTS: Variant[] = [
  // orders
  variant("path", { order: "path" }),
  variant("chain", { order: "chain" }),
  variant("sim", {}),
  variant("sim-l1", { t: { merge: false, clusterCapFraction: 0.5, minFill: 0.75 } }),
  variant("sim-nomerge", { t: { merge: false } }),
  variant("sim-index", { t: { memberOrder: "index" } }),
  variant("sim-first", { t: { clusterKey: "first" } }),
  variant("sim-nb0", { t: { fileNeighbourWeight: 0 } }),
  variant("sim-nb50", { t: { fileNeighbourWeight: 0.5 } }),
  variant("sim-cap12", { t: { clusterCapFraction: 0.125 } }),
  variant("sim-cap25", { t: { clusterCapFraction: 0.25 } }),
  variant("sim-fill50", { t: { minFill: 0.5 } }),
  variant("sim-rows2", { t: { rows: 2 } }),
  variant("sim-min2", { t: { minScore: 2 } }),
  variant("sim-min5", { t: { minScore: 5 } }),
  variant("sim-bucket8", { t: { maxBucket: 8 } }),
  // sketches
  variant("sim-kmins", { s: { scheme: "kmins" } }),
  variant("sim-w16", { s: { words: 16 } }),
  variant("sim-w24", { s: { words: 24 } }),
  variant("sim-w64", { s: { words: 64 } }),
  variant("sim-sh16", { s: { shingleBytes: 16 } }),
  variant("sim-sh64", { s: { shingleBytes: 64 } }),
  variant("sim-samp4", { s: { sampleBits: 4 } }),
  variant("sim-samp6", { s: { sampleBits: 6 } }),
  // codecs
  variant("sim-z16", { level: 16 }),
  variant("sim-z17", { level: 17 }),
  variant("sim-z18", { level: 18 }),
  variant("sim-z22", { level: 22 }),
  variant("sim-xz6", { codec: "xz", level: 6 }),
  variant("sim-xz9e", { codec: "xz", level: 10 }),
  // super-chunk size and dependent super-chunks (format changes, for comparison)
  variant("sim-8m", { targetBytes: 8 * MIB }),
  variant("sim-16m", { targetBytes: 16 * MIB }),
  variant("sim-8m-split4-chain", { targetBytes: 8 * MIB, splitTo: 4 * MIB, prefix: "chain" }),
  variant("sim-pairs", { prefix: "pairs" }),
];

// ---------------------------------------------------------------- measurement

class Pool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, (size: number) => void>();
  private next = 0;

  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => new Worker(new URL(import.meta.url)));
    for (const w of this.workers) {
      w.on("message", (m: { id: number; size: number }) => {
        this.waiting.get(m.id)!(m.size);
        this.waiting.delete(m.id);
      });
    }
  }

  run(job: Omit<Job, "id">, worker: number): Promise<number> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      const moved = [job.buf.buffer as ArrayBuffer];
      if (job.dict !== undefined) moved.push(job.dict.buffer as ArrayBuffer);
      this.workers[worker]!.postMessage({ ...job, id }, moved);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function buildGroup(c: Corpus, group: Uint32Array): Uint8Array {
  let total = 0;
  for (const i of group) total += c.uniques[i]!.length;
  const buf = new Uint8Array(total);
  let at = 0;
  for (const i of group) {
    const u = c.uniques[i]!;
    readUnique(c, u, buf, at);
    if (
      CHECK &&
      createHash("sha256")
        .update(buf.subarray(at, at + u.length))
        .digest("hex") !== u.hash
    )
      throw new Error(`sub-block ${i} read back wrong`);
    at += u.length;
  }
  return buf;
}

/** Compresses all groups, two at a time (one per worker); returns total compressed bytes. */
async function compressAll(
  c: Corpus,
  groups: Uint32Array[],
  v: Variant,
  pool: Pool,
  sizes: number[] = [],
  prefixOf?: Int32Array,
): Promise<number> {
  let next = 0;
  let total = 0;
  const lane = async (w: number) => {
    while (next < groups.length) {
      const k = next++;
      const buf = buildGroup(c, groups[k]!);
      if (DUMP !== undefined)
        writeFileSync(join(DUMP, `${v.name}-${String(k).padStart(4, "0")}`), buf);
      const p = prefixOf?.[k] ?? -1;
      const job = { codec: v.codec, level: v.level, buf };
      const size = await pool.run(p < 0 ? job : { ...job, dict: buildGroup(c, groups[p]!) }, w);
      total += size; // not `total += await`: that reads total before the await
      sizes[k] = size;
    }
  };
  await Promise.all([lane(0), lane(1)]);
  return total;
}

/**
 * The prototype the planner replaces: from the first unplaced sub-block (walk order), chain to
 * the most similar unplaced candidate until none is left, then cut every targetBytes.
 */
function greedyChain(items: PlanItem[], v: Variant): Uint32Array[] {
  const edges = candidateEdges(
    items.map((it) => it.sketch),
    v.tuning,
  );
  const nbr: Array<Array<[number, number]>> = items.map(() => []);
  edges.a.forEach((a, e) => {
    nbr[a]!.push([edges.score[e]!, edges.b[e]!]);
    nbr[edges.b[e]!]!.push([edges.score[e]!, a]);
  });
  for (const list of nbr) list.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  const placed = new Uint8Array(items.length);
  const order: number[] = [];
  for (let start = 0; start < items.length; start++) {
    for (let cur = start; cur >= 0 && placed[cur] === 0; ) {
      placed[cur] = 1;
      order.push(cur);
      cur = nbr[cur]!.find(([, j]) => placed[j] === 0)?.[1] ?? -1;
    }
  }
  const lengths = items.map((it) => it.length);
  return packRuns(
    order.map((i) => [i]),
    lengths,
    v.targetBytes,
    1,
  );
}

/** Cuts each group into near-equal consecutive pieces of at most `size` bytes. */
function splitGroups(groups: Uint32Array[], c: Corpus, size: number) {
  const out: Uint32Array[] = [];
  const parent: number[] = [];
  groups.forEach((g, k) => {
    let total = 0;
    for (const i of g) total += c.uniques[i]!.length;
    const share = total / Math.ceil(total / size);
    let cur: number[] = [];
    let bytes = 0;
    for (const i of g) {
      const len = c.uniques[i]!.length;
      if (cur.length > 0 && (bytes + len > size || bytes + len / 2 > share)) {
        out.push(Uint32Array.from(cur));
        parent.push(k);
        cur = [];
        bytes = 0;
      }
      cur.push(i);
      bytes += len;
    }
    if (cur.length > 0) {
      out.push(Uint32Array.from(cur));
      parent.push(k);
    }
  });
  return { groups: out, parent };
}

/** For each group, the group whose raw bytes serve as its prefix dictionary, or -1. */
function prefixPlan(count: number, parent: number[] | undefined, mode: Variant["prefix"]) {
  const prefixOf = new Int32Array(count).fill(-1);
  for (let k = 1; k < count; k++) {
    if (mode === "chain" && parent !== undefined && parent[k] === parent[k - 1])
      prefixOf[k] = k - 1;
    if (mode === "pairs" && k % 2 === 1) prefixOf[k] = k - 1;
  }
  return prefixOf;
}

/** Prints each group: raw and packed bytes, and the files (version prefix dropped) it holds. */
function describeGroups(c: Corpus, groups: Uint32Array[], sizes: number[]): void {
  groups.forEach((g, k) => {
    const byFile = new Map<string, number>();
    const versions = new Set<string>();
    let raw = 0;
    for (const i of g) {
      const u = c.uniques[i]!;
      const rel = c.files[u.file]!.rel;
      const slash = rel.indexOf("/");
      versions.add(rel.slice(0, slash));
      const name = rel.slice(slash + 1);
      byFile.set(name, (byFile.get(name) ?? 0) + u.length);
      raw += u.length;
    }
    const files = [...byFile].sort((x, y) => y[1] - x[1]).slice(0, 5);
    const list = files.map(([f, b]) => `${f}:${(b / 1024).toFixed(0)}K`).join(" ");
    console.log(
      `  #${k} raw ${(raw / MIB).toFixed(2)} MiB packed ${sizes[k]} items ${g.length} versions ${versions.size}  ${list}`,
    );
  });
}

/**
 * Super-chunks the newest release touches: their number, their raw bytes, and the raw bytes a
 * reader would inflate if it could stop at the end of the last sub-block it needs ("prefix").
 */
function touched(c: Corpus, groups: Uint32Array[]) {
  let count = 0;
  let bytes = 0;
  let prefix = 0;
  for (const g of groups) {
    let at = 0;
    let need = 0;
    for (const i of g) {
      at += c.uniques[i]!.length;
      if (c.newest.has(i)) need = at;
    }
    if (need === 0) continue;
    count++;
    bytes += at;
    prefix += need;
  }
  return { count, bytes, prefix };
}

const sketchCache = new Map<string, { sketches: Uint32Array[]; ms: number }>();

function sketches(c: Corpus, p: SketchParams): { sketches: Uint32Array[]; ms: number } {
  const key = JSON.stringify(p);
  const hit = sketchCache.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const out = c.uniques.map((u) => {
    const buf = new Uint8Array(u.length);
    readUnique(c, u, buf, 0);
    return sketchWith(buf, p);
  });
  const res = { sketches: out, ms: performance.now() - t0 };
  sketchCache.set(key, res);
  return res;
}

async function measure(c: Corpus, v: Variant, pool: Pool): Promise<string> {
  const sk = sketches(c, v.sketch);
  const items: PlanItem[] = c.uniques.map((u, i) => ({
    length: u.length,
    sketch: sk.sketches[i]!,
    path: c.files[u.file]!.rel,
    fileOffset: u.offset,
  }));
  const t0 = performance.now();
  let groups =
    v.order === "chain"
      ? greedyChain(items, v)
      : planWith(items, { targetBytes: v.targetBytes, order: v.order }, v.tuning);
  let parent: number[] | undefined;
  if (v.splitTo !== undefined) ({ groups, parent } = splitGroups(groups, c, v.splitTo));
  const prefixOf = v.prefix === undefined ? undefined : prefixPlan(groups.length, parent, v.prefix);
  const planMs = performance.now() - t0;
  const t1 = performance.now();
  const sizes: number[] = [];
  const payload = await compressAll(c, groups, v, pool, sizes, prefixOf);
  if (process.argv.includes("--groups")) describeGroups(c, groups, sizes);
  const compressMs = performance.now() - t1;
  const t = touched(c, groups);
  const headers = 36 * c.uniques.length;
  return [
    v.name.padEnd(12),
    String(groups.length).padStart(5),
    String(payload).padStart(10),
    (payload / c.rawBytes).toFixed(5),
    ((payload + headers) / c.rawBytes).toFixed(5),
    (sk.ms / 1000).toFixed(2).padStart(6),
    (planMs / 1000).toFixed(2).padStart(6),
    (compressMs / 1000).toFixed(1).padStart(6),
    String(t.count).padStart(5),
    (t.bytes / MIB).toFixed(1).padStart(7),
    (t.prefix / MIB).toFixed(1).padStart(7),
  ].join("  ");
}

function firstSeenIn(c: Corpus, dir: string): number {
  let n = 0;
  for (const i of c.newest) if (c.files[c.uniques[i]!.file]!.rel.startsWith(`${dir}/`)) n++;
  return n;
}

async function main(argv: string[]): Promise<void> {
  const root = argv[0] ?? "/tmp/corpus";
  const opt = (name: string) => {
    const k = argv.indexOf(name);
    return k >= 0 ? argv[k + 1] : undefined;
  };
  const wanted = opt("--variants")?.split(",") ?? ["path", "sim"];
  const dirs = readdirSync(root).sort();
  const newestDir = opt("--newest") ?? dirs[dirs.length - 1]!;
  const c = loadCorpus(root, newestDir);
  let uniqueBytes = 0;
  for (const u of c.uniques) uniqueBytes += u.length;
  console.log(
    `raw ${(c.rawBytes / MIB).toFixed(1)} MiB in ${c.files.length} files; ` +
      `${c.uniques.length} unique sub-blocks, ${(uniqueBytes / MIB).toFixed(1)} MiB; ` +
      `chunk+hash ${(c.chunkMs / 1000).toFixed(1)} s; newest = ${newestDir} ` +
      `(${c.newest.size} sub-blocks, ${firstSeenIn(c, newestDir)} first seen there)`,
  );
  console.log(
    "variant       groups     payload  pay/raw  +hdr/raw  sketch    plan  compr  touch  touchMiB  prefixMiB",
  );
  const pool = new Pool(2);
  for (const name of wanted) {
    const v = VARIANTS.find((x) => x.name === name);
    if (v === undefined) throw new Error(`unknown variant ${name}`);
    console.log(await measure(c, v, pool));
  }
  await pool.close();
}

if (isMainThread) await main(process.argv.slice(2));
