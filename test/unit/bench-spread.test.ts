import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseBenchArgs } from "../../scripts/bench/args.js";
import { TOOLS } from "../../scripts/bench/catalogue.js";
import { loopsBackedUnder } from "../../scripts/bench/mount-table.js";
import { mountSpec, packPlan, type ToolPaths } from "../../scripts/bench/packers.js";
import { sessionsFor } from "../../scripts/bench/phases.js";
import {
  formatLimit,
  formatMainTable,
  formatRatioTable,
  shownPhases,
} from "../../scripts/bench/report.js";
import { formatSpread, spreadOf, withRun } from "../../scripts/bench/spread.js";
import { checkTargets, type TargetContext } from "../../scripts/bench/targets.js";
import { emptyResult, type ToolResult } from "../../scripts/bench/tool-result.js";
import { isCode } from "../../src/errors.js";

const PATHS: ToolPaths = { corpus: "/c", work: "/w", cli: "/p/main.js", node: "/bin/node" };

function usageError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isCode(e, "E_USAGE"), String(e));
    return;
  }
  assert.unreachable("expected E_USAGE");
}

function withReads(id: ToolResult["id"], reads: Record<string, number[]>): ToolResult {
  const r = emptyResult(id);
  for (const [phase, runs] of Object.entries(reads))
    r.reads[phase as keyof ToolResult["reads"]] = spreadOf(runs)!;
  return r;
}

test("bench-spread - spreadOf: median of odd and even counts, min, max, runs in order", () => {
  assert.equal(spreadOf([3, 1, 2]), { runs: [3, 1, 2], median: 2, min: 1, max: 3 });
  assert.equal(spreadOf([4, 1, 2, 3])!.median, 2.5);
  assert.equal(spreadOf([5]), { runs: [5], median: 5, min: 5, max: 5 });
  assert.is(spreadOf([]), null);
  assert.equal(withRun(withRun(undefined, 2), 1).runs, [2, 1]);
});

test("bench-spread - formatSpread: median (min–max), the median alone for one run, dash for none", () => {
  assert.is(formatSpread(spreadOf([1.5, 1.2, 2.0]), 2), "1.50 (1.20–2.00)");
  assert.is(formatSpread(spreadOf([0.333]), 2), "0.33");
  assert.is(formatSpread(null, 2), "–");
  assert.is(formatSpread(undefined, 1), "–");
});

test("bench-spread - main table: spread cells, tree phases only when measured", () => {
  const sc = withReads("superchunk", { readAll: [2, 1, 3], randomReopen: [0.5, 0.4, 0.6] });
  const base = formatMainTable([sc], 100).split("\n");
  assert.ok(base[0]!.includes("| random s | random reopen s | newest-release s |"), base[0]);
  assert.not.ok(base[0]!.includes("walk"));
  assert.is(
    base[2],
    "| superchunk (default) | – | – | – | 2.00 (1.00–3.00) | – | 0.50 (0.40–0.60) | – | – |",
  );
  const tree = withReads("sqfs-zstd-kernel", { walkCold: [1], grep: [2, 2, 2] });
  assert.equal(shownPhases([sc, tree]), [
    "readAll",
    "random",
    "randomReopen",
    "newest",
    "walkCold",
    "grep",
  ]);
  const row = formatMainTable([tree], 100).split("\n")[2]!;
  assert.ok(row.endsWith("| – | – | – | – | 1.00 | 2.00 (2.00–2.00) | – |"), row);
});

test("bench-spread - ratio table divides medians", () => {
  const ours = withReads("superchunk", { readAll: [1, 9, 2], walkCold: [3] });
  const peer = withReads("sqfs-zstd-kernel", { readAll: [4, 4, 100], walkCold: [1] });
  const lines = formatRatioTable(ours, [peer]).split("\n");
  assert.ok(
    lines[0]!.includes("| read-all | random | random reopen | newest-release | walk cold |"),
  );
  assert.ok(lines[2]!.includes("| – | – | 0.500× | – | – | – | 3.000× |"), lines[2]);
});

test("bench-spread - args: --corpus and --runs, as next argument or after =", () => {
  const a = parseBenchArgs(["--corpus", "kernel", "--runs=5", "--quick"]);
  assert.equal([a.corpus, a.runs, a.quick], ["kernel", 5, true]);
  assert.is(parseBenchArgs(["--corpus", "doc"]).corpus, "doc");
  assert.is(parseBenchArgs(["--corpus=typescript"]).corpus, "typescript");
  assert.is(parseBenchArgs(["--runs", "1"]).runs, 1);
  usageError(() => parseBenchArgs(["--corpus", "linux"]));
  usageError(() => parseBenchArgs(["--corpus"]));
  usageError(() => parseBenchArgs(["--runs", "0"]));
  usageError(() => parseBenchArgs(["--runs", "2.5"]));
  usageError(() => parseBenchArgs(["--runs"]));
  assert.ok(parseBenchArgs(["--only", "sqfs-zstd-kernel,erofs"]).tools.includes("erofs"));
});

test("bench-spread - sessions: tree sessions only on the kernel corpus", () => {
  assert.equal(sessionsFor(false), ["readAll", "random", "randomReopen", "newest"]);
  assert.equal(sessionsFor(true).slice(4), ["walk", "lsR", "grep"]);
});

test("bench-spread - kernel rows: loop mounts read-only, erofs pack, shared squashfs image", () => {
  const k = mountSpec("sqfs-zstd-kernel", PATHS, "/m")!;
  assert.equal(k.mount, {
    cmd: "mount",
    args: ["-t", "squashfs", "-o", "loop,ro", "/w/out.sqfs", "/m"],
  });
  assert.equal(k.unmount, { cmd: "umount", args: ["/m"] });
  assert.equal(k.cleanup!.args.slice(-1), ["/w/out.sqfs"]);
  assert.equal(mountSpec("erofs", PATHS, "/m")!.mount.args.slice(0, 3), ["-t", "erofs", "-o"]);
  const erofs = packPlan("erofs", PATHS);
  assert.equal(erofs.steps[0]!.args, ["--quiet", "-zlz4hc,12", "-C1048576", "/w/out.erofs", "/c"]);
  assert.is(TOOLS["sqfs-zstd-kernel"].sharesImageOf, "sqfs-zstd");
  assert.is(TOOLS.erofs.ours, false);
});

test("bench-spread - loopsBackedUnder: only loops backed below the folder, deleted ones too", () => {
  const listing = [
    "/dev/loop0 /work/.cache/bench/work/sqfs-zstd/out.sqfs",
    "/dev/loop1 /elsewhere/x.img",
    "/dev/loop2 /work/.cache/bench/work/erofs/out.erofs (deleted)",
    "/dev/loop3 /work/.cache/benchmark/y",
    "",
  ].join("\n");
  assert.equal(loopsBackedUnder(listing, "/work/.cache/bench"), ["/dev/loop0", "/dev/loop2"]);
});

test("bench-spread - kernel targets: walks and tar against the kernel driver; codec limit", () => {
  const ctx: TargetContext = {
    corpus: "kernel",
    rawBytes: 1e9,
    limit: { label: "zstd", seconds: 100, files: 3, inputBytes: 10, outputBytes: 1 },
  };
  const ours = withReads("superchunk", {
    walkCold: [6],
    walkWarm: [2],
    newest: [20],
    readAll: [1],
  });
  ours.packSeconds = 110;
  ours.packPeakRssKiB = 600 * 1024;
  const kernel = withReads("sqfs-zstd-kernel", { walkCold: [2], walkWarm: [1], newest: [10] });
  const checks = checkTargets(ours, new Map([["sqfs-zstd-kernel", kernel]]), ctx);
  const by = new Map(checks.map((c) => [c.what, c] as const));
  assert.is(by.get("walkCold / sqfs-zstd-kernel")!.value, 3);
  assert.is(by.get("walkCold / sqfs-zstd-kernel")!.met, true);
  assert.is(by.get("walkWarm / sqfs-zstd-kernel")!.met, false);
  assert.is(by.get("newest / sqfs-zstd-kernel")!.met, true);
  assert.is(by.get("pack time / zstd -19 alone")!.value, 1.1);
  assert.is(by.get("pack peak RSS MiB")!.met, false);
  assert.is(by.get("pack time / sqfs-zstd")!.limit, 1.0);
  assert.not.ok(by.has("size / raw"));
  const line = formatLimit(ctx.limit!, ours);
  assert.ok(line.startsWith("Codec limit: zstd: 100.0 s for 3 files"), line);
  assert.ok(line.includes("packs in 1.100× that"), line);
});

test.run();
