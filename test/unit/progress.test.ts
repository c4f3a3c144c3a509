/**
 * progress: the width-fitted line, the overall fraction and ETA over weighted phases, the
 * smoothed rate, and the JSON lines of `--progress=json` (parsed back, field by field).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Progress, progressMode } from "../../src/cli/progress.js";
import { formatDuration, renderProgressLine } from "../../src/cli/progress-line.js";
import { packPlan } from "../../src/cli/progress-plans.js";
import { type ProgressState, ProgressTracker } from "../../src/cli/progress-tracker.js";
import { isCode } from "../../src/errors.js";
import { captureStream } from "../helpers/cli-capture.js";

const MIB = 1024 * 1024;

function state(phase: string, files: [number, number], bytes: [number, number]): ProgressState {
  return {
    phase,
    filesDone: files[0],
    filesTotal: files[1],
    bytesDone: bytes[0],
    bytesTotal: bytes[1],
  };
}

/** A pack's reports: scan of 100 files / 100 MiB, then write of 10 super-chunks / 40 MiB. */
function packReports(): ProgressState[] {
  const out: ProgressState[] = [state("walk", [0, 0], [0, 0])];
  for (let i = 1; i <= 100; i++) out.push(state("scan", [i, 100], [i * MIB, 100 * MIB]));
  out.push(state("plan", [0, 0], [0, 0]));
  for (let i = 1; i <= 10; i++) out.push(state("write", [i, 10], [i * 4 * MIB, 40 * MIB]));
  out.push(state("commit", [0, 0], [0, 0]));
  return out;
}

test("progress - the line fits 60 and 120 columns and keeps its labels", () => {
  const t = new ProgressTracker(packPlan("zstd", 3));
  t.update(state("scan", [0, 5000], [0, 4000 * MIB]), 0);
  const snap = t.update(state("scan", [1203, 5000], [1500 * MIB, 4000 * MIB]), 10);
  for (const cols of [20, 40, 60, 80, 120, 200]) {
    const line = renderProgressLine(snap, cols);
    assert.ok(line.length <= cols - 1, `${cols}: ${line.length} ${line}`);
    assert.match(line, /^scan /);
    assert.match(line, /\d+%/);
  }
  const wide = renderProgressLine(snap, 120);
  assert.match(wide, "1,203/5,000 files");
  assert.match(wide, "1.46 GiB/3.91 GiB");
  assert.match(wide, /\d+\.\d+ MiB\/s/);
  assert.match(wide, /ETA \d/);
  assert.match(wide, /\[#+-+\]/);
  const narrow = renderProgressLine(snap, 60);
  assert.match(narrow, "1,203/5,000 files");
  assert.match(narrow, "ETA");
  assert.is(formatDuration(45), "45s");
  assert.is(formatDuration(187), "3:07");
  assert.is(formatDuration(3723), "1:02:03");
});

test("progress - one ETA for the whole command, weighted by phase", () => {
  // zstd 19: a written byte costs 36 scanned ones, so half the scan is far from half done
  const t = new ProgressTracker(packPlan("zstd", 19));
  let snap = t.update(state("scan", [0, 100], [0, 100 * MIB]), 0);
  for (let s = 1; s <= 50; s++) snap = t.update(state("scan", [s, 100], [s * MIB, 100 * MIB]), s);
  // scan: 1 MiB/s; remaining: 50 MiB of scan + 100 MiB (assumed) of write at 36 each
  assert.ok(snap.fraction > 0.01 && snap.fraction < 0.02, String(snap.fraction));
  const eta = snap.remainingSeconds!;
  assert.ok(eta > 3000 && eta < 4000, String(eta));
  // a per-phase ETA would say 50 s here
  assert.ok(eta > 50 * 10);
});

test("progress - rate is a moving average, not the mean since the start", () => {
  const t = new ProgressTracker([{ name: "x", unit: "files", weight: 1 }]);
  let snap = t.update(state("x", [0, 1], [0, 1000 * MIB]), 0);
  for (let s = 1; s <= 20; s++) snap = t.update(state("x", [0, 1], [s * MIB, 1000 * MIB]), s);
  assert.ok(Math.abs(snap.bytesPerSecond - MIB) < 1, String(snap.bytesPerSecond));
  // ten times faster from now on: the average follows within a few time constants
  let done = 20 * MIB;
  for (let s = 21; s <= 40; s++) {
    done += 10 * MIB;
    snap = t.update(state("x", [0, 1], [done, 1000 * MIB]), s);
  }
  assert.ok(snap.bytesPerSecond > 9 * MIB, String(snap.bytesPerSecond / MIB));
  // the mean since the start would be (20 + 200) / 40 = 5.5 MiB/s
});

test("progress - --progress=json: status lines then one summary", () => {
  const { stream, text } = captureStream();
  let now = 0;
  const p = new Progress(
    "json",
    "pack",
    packPlan("zstd", 3),
    { stderr: stream, env: {} },
    () => now,
  );
  for (const r of packReports()) {
    now += 250;
    p.update(r);
  }
  p.warn({ code: "E_IO", message: "x: unreadable", path: "/src/x" });
  p.finish({ files: 100 });
  const lines = text().trimEnd().split("\n");
  const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const status = objs.filter((o) => o.message_type === "status");
  assert.ok(status.length >= 8, `${status.length} status lines`);
  let last = -1;
  for (const o of status) {
    assert.is(o.command, "pack");
    assert.type(o.phase, "string");
    for (const k of ["seconds_elapsed", "percent_done", "total_files", "files_done"])
      assert.type(o[k], "number", k);
    for (const k of ["total_bytes", "bytes_done"]) assert.type(o[k], "number", k);
    const pct = o.percent_done as number;
    assert.ok(pct >= last && pct >= 0 && pct <= 1, `percent ${pct} after ${last}`);
    last = pct;
    if (o.seconds_remaining !== undefined) assert.ok((o.seconds_remaining as number) >= 0);
  }
  assert.equal(
    [...new Set(status.map((o) => o.phase))],
    ["walk", "scan", "plan", "write", "commit"],
    "a status line at every phase change",
  );
  assert.ok(status.some((o) => o.unit === "super-chunks" && o.phase === "write"));
  const warning = objs.find((o) => o.message_type === "warning")!;
  assert.equal([warning.code, warning.item], ["E_IO", "/src/x"]);
  const summary = objs.at(-1)!;
  assert.is(summary.message_type, "summary");
  assert.is(summary.percent_done, 1);
  assert.is(summary.files, 100);
  assert.ok((summary.seconds_elapsed as number) > 0);
  assert.equal(Object.keys(summary.phase_seconds as object), [
    "walk",
    "scan",
    "plan",
    "write",
    "commit",
  ]);
  assert.is(objs.filter((o) => o.message_type === "summary").length, 1);
});

test("progress - the bar draws only in bar mode and clears before a warning", () => {
  const none = captureStream();
  const off = new Progress("none", "pack", packPlan("zstd", 3), { stderr: none.stream, env: {} });
  for (const r of packReports()) off.update(r);
  off.finish();
  assert.is(none.text(), "");
  const bar = captureStream();
  const on = new Progress("bar", "pack", packPlan("zstd", 3), {
    stderr: bar.stream,
    env: { COLUMNS: "60" },
  });
  const reports = packReports();
  for (const r of reports.slice(0, -1)) on.update(r);
  on.warn({ code: "E_IO", message: "x: unreadable" });
  on.update(reports.at(-1)!); // a new phase: drawn again below the warning
  on.finish();
  const drawn = bar.text().split("\r\x1b[K");
  assert.ok(drawn.some((l) => l.startsWith("scan ")));
  assert.ok(drawn.every((l) => l.replace(/\n.*$/s, "").length <= 59));
  assert.match(bar.text(), "\r\x1b[Ksuperchunk: warning: x: unreadable [E_IO]\n");
  assert.ok(bar.text().endsWith("\r\x1b[K"), "the line is cleared at the end");
});

test("progress - --progress values", () => {
  assert.is(progressMode(undefined, { isTTY: true }, false), "bar");
  assert.is(progressMode(undefined, { isTTY: true }, true), "none");
  assert.is(progressMode(undefined, { isTTY: false }, false), "none");
  assert.is(progressMode("json", { isTTY: false }, true), "json");
  try {
    progressMode("fancy", { isTTY: true }, false);
    assert.unreachable();
  } catch (e) {
    assert.ok(isCode(e, "E_USAGE"));
    assert.match(String(e), "none, bar or json");
  }
});

test.run();
