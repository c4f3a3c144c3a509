/**
 * `npm run bench [-- --quick] [-- --only id,id] [-- --corpus typescript|kernel] [-- --runs N]`:
 * superchunk side by side with the tools a user would pick instead and the kernel's own
 * read-only file systems, in one run on this machine, on the corpus of `npm run corpus`
 * (or of `npm run corpus -- kernel`).
 *
 * 1. installs the peers when missing (apt-get) and makes sure of the corpus
 *    (SUPERCHUNK_CORPUS=<dir> uses a ready copy instead of `.cache/corpus`;
 *    SUPERCHUNK_CLI=<main.js> another build of the CLI instead of dist/src/cli/main.js);
 * 2. times zstd -19 alone on the distinct files (the codec limit), then packs the corpus
 *    with each tool, measuring size, wall time and peak RSS;
 * 3. for each mountable output, N rounds (default 3) of cold mounts: read everything,
 *    2000 random 4 KiB reads over the 40 largest files (files kept open, then reopened
 *    per read), read the newest release; on the kernel corpus also a metadata walk (cold,
 *    warm), `ls -lR` of the newer tree and `grep -r -l` over the older tree's include/;
 * 4. prints a markdown report and writes the raw results to `.cache/bench/results.json`.
 * Scratch files live in `.cache/bench/work/`, emptied at the start. The columns and rows are described in README.md ("Benchmark").
 */

import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IoError } from "../src/errors.js";
import { withArchiveServer } from "./bench/archive-server.js";
import { type BenchArgs, parseBenchArgs } from "./bench/args.js";
import { S3_TOOL_IDS, TOOLS, type ToolId } from "./bench/catalogue.js";
import { type CodecLimit, measureCodecLimit } from "./bench/codec-limit.js";
import { type BenchCorpus, prepareCorpus } from "./bench/corpus-setup.js";
import { detachLoopsUnder, dropCaches, unmount } from "./bench/mount-session.js";
import { mountsUnder } from "./bench/mount-table.js";
import { runPack } from "./bench/pack-runner.js";
import type { ToolPaths } from "./bench/packers.js";
import { ensurePeers } from "./bench/peers.js";
import { sessionsFor } from "./bench/phases.js";
import { type CorpusFile, makeReadPlan } from "./bench/read-plan.js";
import { type ReadContext, type ReadReference, runReads } from "./bench/read-runner.js";
import { grepRead, lsRead, randomRead, tarRead, walkRead } from "./bench/readers.js";
import { fmt, formatReport } from "./bench/report.js";
import { type S3Gateway, withS3Gateway } from "./bench/s3-gateway.js";
import { killRunning, runProcess } from "./bench/spawn.js";
import { formatSpread } from "./bench/spread.js";
import { checkTargets, type TargetContext } from "./bench/targets.js";
import { emptyResult, type ToolResult } from "./bench/tool-result.js";
import { listFiles } from "./bench/tree.js";
import { formatWriteReport, runWriteBench, type WriteRow } from "./bench/write-bench.js";
import { PROJECT_ROOT } from "./corpus.js";

/** The real path (the mount table lists real paths; `.cache` may be a symlink). */
const BENCH_DIR = join(realCacheDir(), "bench");
const WORK_DIR = join(BENCH_DIR, "work");
const PLAN = { fileCount: 40, readCount: 2000, blockBytes: 4096, seed: 0x5eed } as const;

function realCacheDir(): string {
  const dir = join(PROJECT_ROOT, ".cache");
  mkdirSync(dir, { recursive: true });
  return realpathSync(dir);
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Unmounts anything left mounted under the bench folder, then empties the scratch folder. */
async function prepareScratch(): Promise<void> {
  for (const m of mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR)) {
    log(`unmounting stale ${m}`);
    await unmount(m);
  }
  for (const dev of await detachLoopsUnder(BENCH_DIR)) log(`detached stale ${dev}`);
  const left = mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR);
  if (left.length > 0)
    throw new IoError("E_IO", `still mounted, not cleaning ${WORK_DIR}: ${left.join(", ")}`, {
      left,
    });
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
}

/** The reads done on the raw corpus, whose answers every tool must give too. */
async function referenceReads(c: BenchCorpus, planFile: string): Promise<ReadReference> {
  const all = await tarRead(c.dir, ".");
  const one = await tarRead(c.dir, c.newest);
  const rnd = await randomRead(c.dir, planFile);
  const ref = { readAllBytes: all.bytes, newestBytes: one.bytes, randomSha256: rnd.sha256 };
  if (c.id === "typescript") return ref;
  const walkLines = (await walkRead(c.dir)).bytes;
  const lsLines = (await lsRead(c.dir, c.newest)).bytes;
  const grepFiles = (await grepRead(c.dir, c.grepDir)).bytes;
  return { ...ref, walkLines, lsLines, grepFiles };
}

async function toolVersions(): Promise<Record<string, string>> {
  const probes: [string, string[]][] = [
    ["mksquashfs", ["-version"]],
    ["mkfs.erofs", ["--help"]],
    ["squashfuse", ["--version"]],
    ["borg", ["--version"]],
    ["zpaq", []],
    ["xz", ["--version"]],
    ["zstd", ["--version"]],
  ];
  const out: Record<string, string> = {};
  for (const [cmd, args] of probes) {
    const r = await runProcess(cmd, args).catch(() => null);
    const lines = (r ? `${r.stdout}\n${r.stderr}` : "").split("\n");
    out[cmd] = lines.find((l) => /\d+\.\d+/.test(l))?.trim() ?? "unknown";
  }
  return out;
}

function pathsOf(id: ToolId, corpus: string, gw?: S3Gateway): ToolPaths {
  const given = process.env.SUPERCHUNK_CLI;
  const cli = given ? resolve(given) : join(PROJECT_ROOT, "dist", "src", "cli", "main.js");
  const paths = { corpus, work: join(WORK_DIR, id), cli, node: process.execPath };
  const s3 = gw !== undefined && "targets" in gw ? gw.targets[id] : undefined;
  return s3 === undefined ? paths : { ...paths, s3 };
}

/**
 * Packs and reads every tool; a Ceph gateway runs throughout when superchunk-s3 or
 * superchunk-s3-rtt is among them (with the delaying proxy for the latter).
 */
function runAll(args: BenchArgs, corpus: string, ctx: ReadContext): Promise<ToolResult[]> {
  return withS3Gateway(args.tools, log, (gw) => runTools(args, corpus, ctx, gw));
}

async function runTools(
  args: BenchArgs,
  corpus: string,
  ctx: ReadContext,
  gw: S3Gateway | undefined,
): Promise<ToolResult[]> {
  const results = args.tools.map((id) => emptyResult(id));
  const pathsFor = (id: ToolId) => pathsOf(id, corpus, gw);
  for (const r of results) {
    if (S3_TOOL_IDS.includes(r.id) && gw !== undefined && "unavailable" in gw) {
      r.notes.push(`not run: no S3 gateway (${gw.unavailable})`);
      continue;
    }
    const shared = TOOLS[r.id].sharesImageOf;
    const owner = results.find((o) => o.id === shared && o.sizeBytes !== null);
    if (shared !== undefined && owner !== undefined) {
      shareImage(r, owner, pathsFor(r.id).work, pathsFor(shared).work);
      continue;
    }
    log(`pack ${r.id} ...`);
    const ok = await runPack(r.id, pathsFor(r.id), r);
    if (ok && shared !== undefined) {
      r.notes.push(
        `built ${shared}'s image itself (${shared} not run); its pack time is ${shared}'s`,
      );
      r.packSeconds = null;
    }
    log(
      `pack ${r.id}: ${ok ? `${r.sizeBytes} bytes in ${fmt(r.packSeconds, 1)} s` : r.notes.at(-1)}`,
    );
    if (!ok && TOOLS[r.id].mount !== null) r.notes.push("reads not run: nothing packed");
  }
  for (const r of results) {
    if (TOOLS[r.id].mount === null || r.sizeBytes === null) continue;
    log(`read ${r.id} ...`);
    await readTool(r, pathsFor(r.id), ctx);
    const phases = Object.entries(r.reads).map(([p, s]) => `${p} ${formatSpread(s, 2)} s`);
    log(`read ${r.id}: ${phases.join(", ")}`);
  }
  return results;
}

/** A row that reads another row's output (the kernel driver on mksquashfs's image): no pack of its own. */
function shareImage(r: ToolResult, owner: ToolResult, work: string, ownerWork: string): void {
  mkdirSync(work, { recursive: true });
  symlinkSync(join(ownerWork, "out.sqfs"), join(work, "out.sqfs"));
  r.sizeBytes = owner.sizeBytes;
  r.notes.push(`reads ${owner.id}'s image (no pack of its own)`);
}

/** The read columns of one tool; superchunk-http's archive is served by a local nginx meanwhile. */
async function readTool(r: ToolResult, paths: ToolPaths, ctx: ReadContext): Promise<void> {
  if (r.id !== "superchunk-http") return runReads(r.id, paths, ctx, r);
  try {
    await withArchiveServer(paths, (p) => runReads(r.id, p, ctx, r));
  } catch (e) {
    r.notes.push(`reads not run: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Everything measured before the tools run: the corpus, the read plan, the reference reads. */
interface Setup {
  readonly corpus: BenchCorpus;
  readonly files: number;
  readonly rawBytes: number;
  readonly planFiles: readonly CorpusFile[];
  readonly ctx: ReadContext;
}

async function setUp(args: BenchArgs): Promise<Setup> {
  await ensurePeers(log);
  await prepareScratch();
  const corpus = await prepareCorpus(args, WORK_DIR, log);
  const files = listFiles(corpus.dir);
  const rawBytes = files.reduce((n, f) => n + f.size, 0);
  const what = corpus.folders.map((f, i) => `${f} (${corpus.versions[i]})`).join(", ");
  log(`corpus ${corpus.dir}: ${what}; ${files.length} files, ${rawBytes} bytes`);
  const plan = makeReadPlan(files, PLAN);
  const planFile = join(WORK_DIR, "read-plan.json");
  writeFileSync(planFile, JSON.stringify(plan));
  const reference = await referenceReads(corpus, planFile);
  const canDrop = await dropCaches();
  if (!canDrop) log("cannot drop caches here: read columns are NOT cold");
  const sessions = sessionsFor(corpus.id !== "typescript");
  const ctx = { newest: corpus.newest, grepDir: corpus.grepDir, planFile, reference, canDrop };
  const full = { ...ctx, sessions, runs: args.runs };
  return { corpus, files: files.length, rawBytes, planFiles: plan.files, ctx: full };
}

/** zstd -19 alone on the distinct files; null (logged) when it fails. */
async function codecLimit(setup: Setup): Promise<CodecLimit | null> {
  log("codec limit: zstd -19 -T0 of the distinct files ...");
  try {
    const limit = await measureCodecLimit(setup.corpus.dir, listFiles(setup.corpus.dir), WORK_DIR);
    log(`codec limit: ${fmt(limit.seconds, 1)} s for ${limit.inputBytes} bytes`);
    return limit;
  } catch (e) {
    log(`codec limit not measured: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** The write columns, in their own scratch folder. */
async function runWrites(setup: Setup, results: ToolResult[], runs: number): Promise<WriteRow[]> {
  const work = join(WORK_DIR, "write");
  mkdirSync(work, { recursive: true });
  const cli = pathsOf("superchunk", setup.corpus.dir).cli;
  const rows = await runWriteBench(
    { corpus: setup.corpus.dir, work, cli, node: process.execPath, dropCaches, runs },
    log,
  );
  if (!results.some((r) => r.id === "superchunk")) log("write: no superchunk pack to compare");
  return rows;
}

async function writeResults(
  args: BenchArgs,
  setup: Setup,
  results: ToolResult[],
  started: Date,
  tctx: TargetContext,
  writes: readonly WriteRow[] = [],
) {
  const byId = new Map(results.map((r) => [r.id, r] as const));
  const { corpus, rawBytes } = setup;
  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    args,
    machine: {
      cpus: cpus().length,
      memBytes: totalmem(),
      kernel: release(),
      node: process.version,
    },
    tools: await toolVersions(),
    corpus: { ...corpus, files: setup.files, rawBytes },
    codecLimit: tctx.limit,
    coldReads: setup.ctx.canDrop,
    plan: { ...PLAN, files: setup.planFiles },
    reference: setup.ctx.reference,
    results,
    writes,
    targets: Object.fromEntries(
      results.filter((r) => TOOLS[r.id].ours).map((r) => [r.id, checkTargets(r, byId, tctx)]),
    ),
  };
  writeFileSync(join(BENCH_DIR, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
  log(`raw results: ${join(BENCH_DIR, "results.json")}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const started = new Date();
  const args = parseBenchArgs(argv);
  const setup = await setUp(args);
  const limit = args.tools.length > 0 && args.codecLimit ? await codecLimit(setup) : null;
  const results = await runAll(args, setup.corpus.dir, setup.ctx);
  const writes = args.write ? await runWrites(setup, results, args.runs) : [];
  const c = setup.corpus;
  const trees = c.folders.map((f, i) => (f.endsWith(c.versions[i]!) ? f : `${f} ${c.versions[i]}`));
  const scope =
    c.part === null ? "" : ` Quick run: ${c.part}; the targets are set for the whole corpus.`;
  const head = `Corpus ${c.id}: ${trees.join(", ")}; ${setup.files} files, ${setup.rawBytes} bytes. Read phases: median (min–max) of ${args.runs} cold mount${args.runs === 1 ? "" : "s"}.${scope}\n\n`;
  const tctx = { corpus: c.id, rawBytes: setup.rawBytes, limit };
  process.stdout.write(`\n${head}${formatReport(results, tctx)}`);
  if (writes.length > 0) {
    const pack = results.find((r) => r.id === "superchunk")?.sizeBytes ?? null;
    const runs = `median (min–max) of ${args.runs} run${args.runs === 1 ? "" : "s"}`;
    process.stdout.write(`\nWrites (cp -a into each target, then read back; ${runs}):\n\n`);
    process.stdout.write(formatWriteReport(writes, pack));
  }
  await writeResults(args, setup, results, started, tctx, writes);
}

async function interrupted(signal: NodeJS.Signals): Promise<void> {
  log(`${signal}: stopping children and unmounting`);
  killRunning("SIGTERM");
  for (const m of mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR))
    await unmount(m);
  await detachLoopsUnder(BENCH_DIR);
  process.exit(130);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.once("SIGINT", (s) => void interrupted(s));
  process.once("SIGTERM", (s) => void interrupted(s));
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
