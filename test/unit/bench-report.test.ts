import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseBenchArgs } from "../../scripts/bench/args.js";
import { TOOL_IDS, TOOLS } from "../../scripts/bench/catalogue.js";
import { mountsUnder, parseMountPoints } from "../../scripts/bench/mount-table.js";
import {
  extractJsonObject,
  mountSpec,
  packPlan,
  type ToolPaths,
} from "../../scripts/bench/packers.js";
import { createPrng } from "../../scripts/bench/prng.js";
import { type CorpusFile, largestFiles, makeReadPlan } from "../../scripts/bench/read-plan.js";
import {
  computeRatios,
  extraNumber,
  fmt,
  formatMainTable,
  formatReport,
  formatS3Table,
  markdownTable,
} from "../../scripts/bench/report.js";
import { parsePeakRss } from "../../scripts/bench/spawn.js";
import { spreadOf } from "../../scripts/bench/spread.js";
import { checkTargets, ratio, type TargetContext } from "../../scripts/bench/targets.js";
import { emptyResult, type ToolResult } from "../../scripts/bench/tool-result.js";
import { isCode } from "../../src/errors.js";

function throwsCode(fn: () => unknown, code: "E_USAGE"): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isCode(e, code), `expected ${code}, got ${String(e)}`);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

type Seconds = Partial<Record<"readAll" | "random" | "randomReopen" | "newest", number>>;

/** A result whose read phases were each measured once, with the given seconds. */
function result(id: ToolResult["id"], fields: Partial<ToolResult> & Seconds): ToolResult {
  const r = { ...emptyResult(id), ...fields };
  for (const phase of ["readAll", "random", "randomReopen", "newest"] as const) {
    const v = fields[phase];
    if (v !== undefined) r.reads[phase] = spreadOf([v])!;
    delete (r as Seconds)[phase];
  }
  return r;
}

const CTX: TargetContext = { corpus: "typescript", rawBytes: 1000, limit: null };

const PATHS: ToolPaths = { corpus: "/c", work: "/w", cli: "/p/main.js", node: "/bin/node" };

test("bench-report - args: defaults, --quick, --only in catalogue order, bare -- ignored", () => {
  assert.equal(parseBenchArgs([]), {
    quick: false,
    corpus: "typescript",
    runs: 3,
    tools: [...TOOL_IDS],
    write: true,
    codecLimit: true,
  });
  assert.equal(parseBenchArgs(["--", "--quick"]).quick, true);
  assert.equal(parseBenchArgs(["--only", "borg,superchunk"]).tools, ["superchunk", "borg"]);
  assert.equal(parseBenchArgs(["--quick", "--", "--only=zpaq"]), {
    quick: true,
    corpus: "typescript",
    runs: 3,
    tools: ["zpaq"],
    write: false,
    codecLimit: true,
  });
  assert.is(parseBenchArgs(["--no-codec-limit"]).codecLimit, false);
  assert.equal(parseBenchArgs(["--only", "write"]).tools, []);
  assert.equal(parseBenchArgs(["--only", "write"]).write, true);
  assert.equal(parseBenchArgs(["--only", "write,borg"]).tools, ["borg"]);
});

test("bench-report - args: unknown flag, unknown tool, missing list are usage errors", () => {
  throwsCode(() => parseBenchArgs(["--fast"]), "E_USAGE");
  throwsCode(() => parseBenchArgs(["--only", "borg,rar"]), "E_USAGE");
  throwsCode(() => parseBenchArgs(["--only"]), "E_USAGE");
  throwsCode(() => parseBenchArgs(["--only", "--quick"]), "E_USAGE");
  throwsCode(() => parseBenchArgs(["--only="]), "E_USAGE");
});

test("bench-report - prng: mulberry32 known answer, deterministic, in [0, 1)", () => {
  assert.is(createPrng(1)(), 0.6270739405881613);
  const a = createPrng(42);
  const b = createPrng(42);
  const c = createPrng(43);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.equal(
    xs,
    Array.from({ length: 1000 }, () => b()),
  );
  assert.not.equal(
    xs.slice(0, 10),
    Array.from({ length: 10 }, () => c()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

const FILES: CorpusFile[] = Array.from({ length: 60 }, (_, i) => ({
  path: `r/f${String(i).padStart(2, "0")}`,
  size: i === 7 ? 100 : (i % 13) * 50_000 + 9000,
}));

test("bench-report - largestFiles: size descending, ties by path", () => {
  const files = [
    { path: "b", size: 5 },
    { path: "a", size: 5 },
    { path: "c", size: 9 },
    { path: "d", size: 1 },
  ];
  assert.equal(
    largestFiles(files, 3).map((f) => f.path),
    ["c", "a", "b"],
  );
});

test("bench-report - read plan: count, bounds, only the largest files, stable for a seed", () => {
  const plan = makeReadPlan(FILES, { fileCount: 40, readCount: 2000, blockBytes: 4096, seed: 7 });
  assert.is(plan.files.length, 40);
  assert.is(plan.reads.length, 2000);
  const smallestChosen = Math.min(...plan.files.map((f) => f.size));
  const excluded = FILES.filter((f) => !plan.files.includes(f));
  assert.ok(excluded.every((f) => f.size <= smallestChosen));
  for (const r of plan.reads) {
    const f = plan.files[r.file]!;
    assert.ok(r.offset >= 0 && r.offset + r.length <= f.size, `read past end of ${f.path}`);
    assert.is(r.length, Math.min(4096, f.size));
  }
  assert.equal(makeReadPlan(FILES, { seed: 7 }), plan);
  assert.not.equal(makeReadPlan(FILES, { seed: 8 }).reads, plan.reads);
  assert.ok(new Set(plan.reads.map((r) => r.file)).size > 30, "reads spread over the files");
});

test("bench-report - read plan: a file smaller than a block is read whole; no file is an error", () => {
  const plan = makeReadPlan([{ path: "tiny", size: 100 }], { readCount: 5 });
  assert.equal(plan.reads[0], { file: 0, offset: 0, length: 100 });
  throwsCode(() => makeReadPlan([{ path: "empty", size: 0 }]), "E_USAGE");
});

test("bench-report - ratio and computeRatios: null when either side is missing", () => {
  assert.is(ratio(1, 4), 0.25);
  assert.is(ratio(null, 4), null);
  assert.is(ratio(1, 0), null);
  const ours = result("superchunk", { sizeBytes: 10, packSeconds: 2, readAll: 3 });
  const peer = result("sqfs-zstd", {
    sizeBytes: 40,
    packSeconds: 8,
    readAll: 6,
    random: 1,
  });
  assert.equal(computeRatios(ours, peer), {
    size: 0.25,
    pack: 0.25,
    readAll: 0.5,
    random: null,
    randomReopen: null,
    newest: null,
    walkCold: null,
    walkWarm: null,
    lsR: null,
    grep: null,
  });
});

test("bench-report - markdown table: alignment row, pipes escaped, dashes for missing", () => {
  const t = markdownTable(["a", "b"], [["x | y", fmt(null, 2)]]);
  assert.is(t, "| a | b |\n| --- | ---: |\n| x \\| y | – |");
  assert.is(fmt(1.23456, 2), "1.23");
  const main = formatMainTable(
    [result("tar-xz", { sizeBytes: 25, packSeconds: 1.04, packPeakRssKiB: 2048 })],
    100,
  );
  const row = main.split("\n")[2]!;
  assert.is(row, "| tar \\| xz -9 | 0.2500 | 1.0 | 2 | – | – | – | – | – |");
});

test("bench-report - targets: met, missed and not measured", () => {
  const ours = result("superchunk", {
    sizeBytes: 15,
    packSeconds: 5,
    readAll: 2,
    random: 1,
  });
  const ref = result("sqfs-zstd", {
    sizeBytes: 130,
    packSeconds: 10,
    readAll: 4,
    random: 0.5,
  });
  const checks = checkTargets(ours, new Map([["sqfs-zstd", ref]]), CTX);
  assert.equal(
    checks.map((c) => c.what),
    [
      "size / raw",
      "pack time / sqfs-zstd",
      "pack time / zstd -19 alone",
      "pack peak RSS MiB",
      "mount peak RSS MiB",
      "readAll / sqfs-zstd",
      "random / sqfs-zstd",
      "randomReopen / sqfs-zstd",
      "newest / sqfs-zstd",
    ],
  );
  assert.equal(
    checks.map((c) => c.met),
    [true, false, null, null, null, true, false, null, null],
  );
  assert.is(checks[1]!.value, 0.5);
  const alone = checkTargets(ours, new Map(), CTX);
  assert.equal(
    alone.map((c) => c.met),
    [true, null, null, null, null, null, null, null, null],
  );
});

test("bench-report - targets on the doc corpus: pack at mksquashfs's speed, read-all", () => {
  const ours = result("superchunk", { sizeBytes: 95, packSeconds: 9, readAll: 2 });
  const ref = result("sqfs-zstd", { sizeBytes: 100, packSeconds: 10, readAll: 4 });
  const checks = checkTargets(ours, new Map([["sqfs-zstd", ref]]), { ...CTX, corpus: "doc" });
  assert.equal(
    checks.map((c) => [c.what, c.limit, c.met]),
    [
      ["pack time / sqfs-zstd", 1.0, true],
      ["pack time / zstd -19 alone", 1.15, null],
      ["pack peak RSS MiB", 512, null],
      ["mount peak RSS MiB", 612, null],
      ["readAll / sqfs-zstd", 1.0, true],
    ],
  );
});

test("bench-report - report: main table, ratio table per superchunk row, notes", () => {
  const rows = [
    result("superchunk", { sizeBytes: 10, packSeconds: 1, notes: ["read random skipped: x"] }),
    result("sqfs-zstd", { sizeBytes: 100, packSeconds: 4 }),
  ];
  const text = formatReport(rows, CTX);
  assert.ok(text.includes("| superchunk (default) vs | size |"));
  assert.ok(
    text.includes("| mksquashfs zstd-19 1M + squashfuse | 0.100× | 0.250× | – | – | – | – |"),
  );
  assert.ok(text.includes("- superchunk (default): read random skipped: x"));
  assert.ok(text.includes("- size / raw: 0.0100 (target ≤ 0.016) — met"));
  assert.not.ok(
    formatReport([rows[1]!], CTX).includes(" vs |"),
    "no ratio table without superchunk",
  );
});

test("bench-report - S3 table: times, ratios to the local store, what the S3 mount fetched", () => {
  const local = result("superchunk", { packSeconds: 4, readAll: 2, newest: 1 });
  const s3 = result("superchunk-s3", {
    packSeconds: 5,
    readAll: 3,
    newest: 0.5,
    extra: {
      readAllFetchedBytes: 3 * 1024 * 1024,
      readAllFetchRequests: 17,
      readAllFetchedPerByteRead: 0.0531,
      newestFetchedBytes: "oops",
    },
  });
  const lines = formatS3Table(s3, local).split("\n");
  assert.ok(lines[0]!.startsWith("S3 store against the local store directory ("), lines[0]);
  assert.is(
    lines[2],
    "| phase | S3 s | local s | S3 / local | fetched MiB | requests | fetched / byte read |",
  );
  assert.is(lines[4], "| pack | 5.0 | 4.0 | 1.250× | – | – | – |");
  assert.is(lines[5], "| read-all | 3.00 | 2.00 | 1.500× | 3.0 | 17 | 0.053 |");
  assert.is(
    lines[6],
    "| newest-release | 0.50 | 1.00 | 0.500× | – | – | – |",
    "random not measured: no row",
  );
  assert.is(lines.length, 7);
  const halfMeasured = formatS3Table(result("superchunk-s3", { random: 2 }), local);
  assert.ok(halfMeasured.includes("| random | 2.00 | – | – | – | – | – |"), halfMeasured);
  assert.is(extraNumber(s3, "newestFetchedBytes"), null);
  assert.is(extraNumber(s3, "readAllFetchRequests"), 17);
});

test("bench-report - report: the S3 table only when both superchunk and superchunk-s3 ran", () => {
  const local = result("superchunk", { packSeconds: 2 });
  const s3 = result("superchunk-s3", { packSeconds: 3 });
  const both = formatReport([local, s3], CTX);
  assert.ok(both.includes("| pack | 3.0 | 2.0 | 1.500× |"), both);
  assert.ok(both.indexOf("S3 store against") < both.indexOf("Targets,"), "after the main table");
  assert.not.ok(formatReport([s3], CTX).includes("S3 store against"));
  assert.not.ok(formatReport([local], CTX).includes("S3 store against"));
});

test("bench-report - report: one S3 table per S3 row, direct first, then the round-trip one", () => {
  const local = result("superchunk", { packSeconds: 2 });
  const s3 = result("superchunk-s3", { packSeconds: 3 });
  const rtt = result("superchunk-s3-rtt", { packSeconds: 8 });
  const report = formatReport([local, rtt, s3], CTX);
  const direct = report.indexOf("| pack | 3.0 | 2.0 | 1.500× |");
  const far = report.indexOf("| pack | 8.0 | 2.0 | 4.000× |");
  assert.ok(direct > 0 && far > direct, report);
  assert.ok(report.includes(`(${TOOLS["superchunk-s3-rtt"].label} /`), report);
  assert.is(formatReport([local, rtt], CTX).split("S3 store against").length, 2);
});

test("bench-report - parsePeakRss reads GNU time's last line", () => {
  assert.is(parsePeakRss("12345\n"), 12345);
  assert.is(parsePeakRss("Command exited with non-zero status 1\n2345\n"), 2345);
  assert.is(parsePeakRss(""), null);
  assert.is(parsePeakRss("Command terminated by signal 9\n"), null);
});

test("bench-report - extractJsonObject finds the summary after progress lines", () => {
  assert.equal(extractJsonObject('{"storedBytes":5}'), { storedBytes: 5 });
  assert.equal(extractJsonObject('packing 10%\n{"seconds":1.5}\n'), { seconds: 1.5 });
  assert.equal(extractJsonObject('{\n  "a": 1\n}\n'), { a: 1 });
  assert.is(extractJsonObject("[1,2]"), null);
  assert.is(extractJsonObject("{oops"), null);
});

test("bench-report - mount table: escaped paths, only mounts under the folder, deepest first", () => {
  const info = [
    "36 25 0:32 / / rw - ext4 /dev/vda rw",
    "40 36 0:50 / /x/bench/a rw - fuse.squashfuse squashfuse rw",
    "41 40 0:51 / /x/bench/a/b\\040c rw - fuse borgfs rw",
    "42 36 0:52 / /x/bench2 rw - fuse other rw",
  ].join("\n");
  assert.equal(parseMountPoints(info), ["/", "/x/bench/a", "/x/bench/a/b c", "/x/bench2"]);
  assert.equal(mountsUnder(info, "/x/bench"), ["/x/bench/a/b c", "/x/bench/a"]);
});

test("bench-report - pack plans use the documented command lines", () => {
  assert.equal(packPlan("sqfs-zstd", PATHS).steps[0]!.args, [
    "/c",
    "/w/out.sqfs",
    "-comp",
    "zstd",
    "-Xcompression-level",
    "19",
    "-b",
    "1M",
    "-noappend",
  ]);
  assert.equal(packPlan("superchunk-path", PATHS).steps[0]!.args, [
    "/p/main.js",
    "pack",
    "/c",
    "/w/store",
    "--json",
    "--order",
    "path",
  ]);
  const borg = packPlan("borg", PATHS);
  assert.equal(
    borg.steps.map((s) => s.args[0]),
    ["init", "create"],
  );
  assert.is(borg.steps[1]!.cwd, "/c");
  assert.ok(borg.steps[1]!.args.includes("buzhash,14,18,15,4095"));
  assert.is(borg.output, "/w/repo");
  assert.ok(packPlan("tar-zstd", PATHS).steps[0]!.args[1]!.includes("zstd -q -19 --long=27 -T0"));
  assert.is(mountSpec("zpaq", PATHS, "/m"), null);
  const sc = mountSpec("superchunk", PATHS, "/m")!;
  assert.equal(sc.mount.args, [
    "/p/main.js",
    "mount",
    "/w/store",
    "/m",
    "--read-only",
    "--foreground",
  ]);
  assert.equal(sc.unmount!.args, ["/p/main.js", "umount", "/m"]);
});

test.run();
