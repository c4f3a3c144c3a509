/**
 * `npm run bench [-- --quick] [-- --only id,id]`: superchunk side by side with the tools a
 * user would pick instead, in one run on this machine, on the corpus of `npm run corpus`.
 *
 * 1. installs the peers when missing (apt-get) and makes sure of the corpus
 *    (SUPERCHUNK_CORPUS=<dir> uses a ready copy instead of `.cache/corpus`;
 *    SUPERCHUNK_CLI=<main.js> another build of the CLI instead of dist/src/cli/main.js);
 * 2. packs the corpus with each tool, measuring size, wall time and peak RSS;
 * 3. for each mountable output, three cold mounts: read everything, 2000 random 4 KiB
 *    reads over the 40 largest files, read the newest release;
 * 4. prints a markdown report and writes the raw results to `.cache/bench/results.json`.
 * Scratch files live in `.cache/bench/work/`, emptied at the start. The columns and rows are described in README.md ("Benchmark").
 */

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IoError, NotFoundError } from "../src/errors.js";
import { withArchiveServer } from "./bench/archive-server.js";
import { type BenchArgs, parseBenchArgs } from "./bench/args.js";
import { S3_TOOL_IDS, TOOLS, type ToolId } from "./bench/catalogue.js";
import { dropCaches, unmount } from "./bench/mount-session.js";
import { mountsUnder } from "./bench/mount-table.js";
import { runPack } from "./bench/pack-runner.js";
import type { ToolPaths } from "./bench/packers.js";
import { ensurePeers } from "./bench/peers.js";
import { type CorpusFile, makeReadPlan } from "./bench/read-plan.js";
import { type ReadContext, type ReadReference, runReads } from "./bench/read-runner.js";
import { randomRead, tarRead } from "./bench/readers.js";
import { checkTargets, fmt, formatReport } from "./bench/report.js";
import { type S3Gateway, withS3Gateway } from "./bench/s3-gateway.js";
import { assertSuccess, killRunning, runProcess } from "./bench/spawn.js";
import { emptyResult, type ToolResult } from "./bench/tool-result.js";
import { listFiles } from "./bench/tree.js";
import { formatWriteReport, runWriteBench, type WriteRow } from "./bench/write-bench.js";
import { CORPUS_VERSIONS, ensureCorpus, PROJECT_ROOT, releaseFolder } from "./corpus.js";

const BENCH_DIR = join(PROJECT_ROOT, ".cache", "bench");
const WORK_DIR = join(BENCH_DIR, "work");
const QUICK_VERSIONS = ["5.8.3", "5.9.3"] as const;
const PLAN = { fileCount: 40, readCount: 2000, blockBytes: 4096, seed: 0x5eed } as const;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Unmounts anything left mounted under the bench folder, then empties the scratch folder. */
async function prepareScratch(): Promise<void> {
  for (const m of mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR)) {
    log(`unmounting stale ${m}`);
    await unmount(m);
  }
  const left = mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR);
  if (left.length > 0)
    throw new IoError("E_IO", `still mounted, not cleaning ${WORK_DIR}: ${left.join(", ")}`, {
      left,
    });
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
}

/** The folder to pack: the whole corpus, or (quick) a copy of two releases in the scratch folder. */
async function prepareCorpus(
  args: BenchArgs,
): Promise<{ dir: string; versions: readonly string[] }> {
  const versions = args.quick ? QUICK_VERSIONS : CORPUS_VERSIONS;
  const given = process.env.SUPERCHUNK_CORPUS;
  const source = given ? resolve(given) : (await ensureCorpus({ versions, log })).dir;
  for (const v of versions) {
    if (!existsSync(join(source, releaseFolder(v)))) {
      throw new NotFoundError(
        "E_NOT_FOUND",
        `${source} has no ${releaseFolder(v)} (run npm run corpus, or fix SUPERCHUNK_CORPUS)`,
      );
    }
  }
  if (!args.quick) return { dir: source, versions };
  const dir = join(WORK_DIR, "corpus");
  mkdirSync(dir);
  for (const v of versions) {
    assertSuccess("cp -a", await runProcess("cp", ["-a", join(source, releaseFolder(v)), dir]));
  }
  return { dir, versions };
}

/** The reads done on the raw corpus, whose answers every tool must give too. */
async function referenceReads(
  corpus: string,
  newest: string,
  planFile: string,
): Promise<ReadReference> {
  const all = await tarRead(corpus, ".");
  const one = await tarRead(corpus, newest);
  const rnd = await randomRead(corpus, planFile);
  return { readAllBytes: all.bytes, newestBytes: one.bytes, randomSha256: rnd.sha256 };
}

async function toolVersions(): Promise<Record<string, string>> {
  const probes: [string, string[]][] = [
    ["mksquashfs", ["-version"]],
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
    log(`pack ${r.id} ...`);
    const ok = await runPack(r.id, pathsFor(r.id), r);
    log(
      `pack ${r.id}: ${ok ? `${r.sizeBytes} bytes in ${fmt(r.packSeconds, 1)} s` : r.notes.at(-1)}`,
    );
    if (!ok && TOOLS[r.id].mount !== null) r.notes.push("reads not run: nothing packed");
  }
  for (const r of results) {
    if (TOOLS[r.id].mount === null || r.sizeBytes === null) continue;
    log(`read ${r.id} ...`);
    await readTool(r, pathsFor(r.id), ctx);
    const t = (v: number | null) => fmt(v, 2);
    log(
      `read ${r.id}: all ${t(r.readAllSeconds)} s, random ${t(r.randomSeconds)} s, newest ${t(r.newestSeconds)} s`,
    );
  }
  return results;
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
  readonly corpus: { dir: string; versions: readonly string[] };
  readonly files: number;
  readonly rawBytes: number;
  readonly planFiles: readonly CorpusFile[];
  readonly ctx: ReadContext;
}

async function setUp(args: BenchArgs): Promise<Setup> {
  await ensurePeers(log);
  await prepareScratch();
  const corpus = await prepareCorpus(args);
  const files = listFiles(corpus.dir);
  const rawBytes = files.reduce((n, f) => n + f.size, 0);
  log(
    `corpus ${corpus.dir}: ${corpus.versions.length} releases, ${files.length} files, ${rawBytes} bytes`,
  );
  const plan = makeReadPlan(files, PLAN);
  const planFile = join(WORK_DIR, "read-plan.json");
  writeFileSync(planFile, JSON.stringify(plan));
  const newest = releaseFolder(corpus.versions[corpus.versions.length - 1]!);
  const reference = await referenceReads(corpus.dir, newest, planFile);
  const canDrop = await dropCaches();
  if (!canDrop) log("cannot drop caches here: read columns are NOT cold");
  const ctx = { newest, planFile, reference, canDrop };
  return { corpus, files: files.length, rawBytes, planFiles: plan.files, ctx };
}

/** The write columns, in their own scratch folder. */
async function runWrites(setup: Setup, results: ToolResult[]): Promise<WriteRow[]> {
  const work = join(WORK_DIR, "write");
  mkdirSync(work, { recursive: true });
  const cli = pathsOf("superchunk", setup.corpus.dir).cli;
  const rows = await runWriteBench(
    { corpus: setup.corpus.dir, work, cli, node: process.execPath, dropCaches },
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
  writes: readonly WriteRow[] = [],
) {
  const byId = new Map(results.map((r) => [r.id, r] as const));
  const { corpus, rawBytes } = setup;
  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    args: { quick: args.quick, tools: args.tools, write: args.write },
    machine: {
      cpus: cpus().length,
      memBytes: totalmem(),
      kernel: release(),
      node: process.version,
    },
    tools: await toolVersions(),
    corpus: { dir: corpus.dir, versions: corpus.versions, files: setup.files, rawBytes },
    coldReads: setup.ctx.canDrop,
    plan: { ...PLAN, files: setup.planFiles },
    reference: setup.ctx.reference,
    results,
    writes,
    targets: Object.fromEntries(
      results.filter((r) => TOOLS[r.id].ours).map((r) => [r.id, checkTargets(r, byId, rawBytes)]),
    ),
  };
  writeFileSync(join(BENCH_DIR, "results.json"), `${JSON.stringify(json, null, 2)}\n`);
  log(`raw results: ${join(BENCH_DIR, "results.json")}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const started = new Date();
  const args = parseBenchArgs(argv);
  const setup = await setUp(args);
  const results = await runAll(args, setup.corpus.dir, setup.ctx);
  const writes = args.write ? await runWrites(setup, results) : [];
  const scope = args.quick
    ? `Quick run: ${setup.corpus.versions.join(", ")} only; the targets are set for the full corpus.\n\n`
    : "";
  process.stdout.write(`\n${scope}${formatReport(results, setup.rawBytes)}`);
  if (writes.length > 0) {
    const pack = results.find((r) => r.id === "superchunk")?.sizeBytes ?? null;
    process.stdout.write(`\nWrites (cp -a into each target, then read back):\n\n`);
    process.stdout.write(formatWriteReport(writes, pack));
  }
  await writeResults(args, setup, results, started, writes);
}

async function interrupted(signal: NodeJS.Signals): Promise<void> {
  log(`${signal}: stopping children and unmounting`);
  killRunning("SIGTERM");
  for (const m of mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), BENCH_DIR))
    await unmount(m);
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
