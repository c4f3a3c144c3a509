/**
 * cli-progress: the progress bar as a terminal sees it. `pack` runs on a real
 * pseudo-terminal (util-linux `script`) 60 and 120 columns wide; every redraw of the line
 * is read back from the recorded output and must fit the width with its labels. Then
 * `--progress=json` from the real CLI: JSON lines on stderr, the summary on stdout.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cleanupTmp, seededBytes, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

const MAIN = path.resolve("dist/src/cli/main.js");

/** 300 files of 16 KiB in 10 directories: several redraws in every phase. */
function sourceTree(): string {
  const src = path.join(tmpDir("progress"), "src");
  for (let d = 0; d < 10; d++) {
    fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++)
      fs.writeFileSync(path.join(src, `d${d}`, `f${f}`), seededBytes(16 * 1024, d * 100 + f + 1));
  }
  return src;
}

const PACK_FLAGS = ["--level", "3", "--superchunk-size", "256K", "--threads", "1"];

/** Runs `pack` on a pseudo-terminal `cols` wide; answers each drawn progress line. */
function packOnTerminal(src: string, cols: number): { lines: string[]; status: string } {
  const dir = tmpDir("progress-tty");
  const log = path.join(dir, "typescript");
  const argv = [process.execPath, MAIN, "pack", src, path.join(dir, "store"), ...PACK_FLAGS];
  const cmd = `stty cols ${cols} rows 20; ${argv.map((a) => `'${a}'`).join(" ")}`;
  const r = spawnSync("script", ["-q", "-e", "-c", cmd, log], { encoding: "utf8" });
  assert.is(r.error, undefined, "util-linux script runs");
  const text = fs.readFileSync(log, "utf8");
  assert.is(r.status, 0, text);
  // each redraw starts with CR + erase-line; the summary after the last one starts a new line
  const lines = text
    .split("\r\x1b[K")
    .slice(1)
    .map((l) => l.split(/\r?\n/)[0]!)
    .filter((l) => l !== "");
  return { lines, status: text };
}

for (const cols of [60, 120]) {
  test(`cli-progress - pack on a ${cols}-column terminal: every redraw fits, labelled`, () => {
    const { lines } = packOnTerminal(sourceTree(), cols);
    const bars = lines.filter((l) => /^(walk|scan|plan|write|commit) /.test(l));
    assert.ok(bars.length >= 5, `${bars.length} redraws:\n${lines.join("\n")}`);
    for (const l of bars) assert.ok(l.length < cols, `${l.length} >= ${cols}: ${l}`);
    assert.ok(
      bars.some((l) => /^scan .*\d+%.* \d+\/300 files/.test(l)),
      bars.join("\n"),
    );
    assert.ok(
      bars.some((l) => /^write .* \d+\/\d+ super-chunks/.test(l)),
      bars.join("\n"),
    );
    if (cols === 120) assert.ok(bars.some((l) => /KiB|MiB/.test(l) && /\[#*-*\]/.test(l)));
    // every redraw is a progress line; the summary follows the last one
    assert.is(bars.length, lines.length - 1, lines.join("\n"));
    assert.ok(lines.at(-1)!.startsWith("files "), lines.at(-1));
  });
}

test("cli-progress - --progress=json from the CLI: status lines, one summary", () => {
  const src = sourceTree();
  const store = path.join(tmpDir("progress-json"), "store");
  const r = spawnSync(
    process.execPath,
    [MAIN, "pack", src, store, "--json", "--progress=json", ...PACK_FLAGS],
    { encoding: "utf8" },
  );
  assert.is(r.status, 0, r.stderr);
  const objs = r.stderr
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const status = objs.filter((o) => o.message_type === "status");
  assert.ok(status.length >= 5);
  let last = 0;
  for (const o of status) {
    const pct = o.percent_done as number;
    assert.ok(pct >= last && pct <= 1, `${pct} after ${last}`);
    last = pct;
  }
  assert.ok(status.some((o) => o.phase === "scan" && o.total_files === 300));
  assert.is(objs.at(-1)!.message_type, "summary");
  assert.is(JSON.parse(r.stdout).command, "pack");
  const bad = spawnSync(process.execPath, [MAIN, "pack", src, `${store}2`, "--progress=fancy"], {
    encoding: "utf8",
  });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, "none, bar or json");
});

test.run();
