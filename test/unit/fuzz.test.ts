/**
 * The mutation fuzz: hundreds of damaged copies of a small store and of its archive (every
 * kind of damage in test/helpers/mutate-store.ts, mutate-rows.ts, mutate-archive.ts, taken
 * round-robin, placed by a seeded Rng), each run through `extract` into a fresh directory
 * and `fsck`, in a worker thread with a deadline; the rules are in fuzz-judge.ts. The
 * outcome table is printed. Environment:
 *   SUPERCHUNK_FUZZ_SEED        seed (default 15)
 *   SUPERCHUNK_FUZZ_COUNT       number of cases (default 300)
 *   SUPERCHUNK_FUZZ_KINDS       comma list of kinds to run (e.g. "sc-swap,name-slash")
 *   SUPERCHUNK_FUZZ_STRICT      "0": print violations without failing (default on)
 *   SUPERCHUNK_FUZZ_TIMEOUT_MS  deadline of one command (default 15000)
 *   SUPERCHUNK_FUZZ_JOBS        cases run at once (default 2)
 *   SUPERCHUNK_FUZZ_KEEP        "1": keep the directories of violating cases (printed)
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  ALL_KINDS,
  buildFuzzFixture,
  type FuzzCase,
  type FuzzFixture,
  type FuzzKind,
  kindLabel,
  prepareCase,
} from "../helpers/fuzz-fixture.js";
import {
  type CaseOutcome,
  isViolation,
  judgeExtract,
  judgeFsck,
  notesReport,
  outcomeTable,
  snapshotChange,
  snapshotDir,
  violationReport,
} from "../helpers/fuzz-judge.js";
import { CommandRunner, type RunResult } from "../helpers/fuzz-run.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

const env = process.env;
const SEED = Number(env.SUPERCHUNK_FUZZ_SEED ?? 15);
const COUNT = Number(env.SUPERCHUNK_FUZZ_COUNT ?? 300);
const STRICT = env.SUPERCHUNK_FUZZ_STRICT !== "0";
const TIMEOUT_MS = Number(env.SUPERCHUNK_FUZZ_TIMEOUT_MS ?? 15_000);
const JOBS = Math.max(1, Number(env.SUPERCHUNK_FUZZ_JOBS ?? 2));
const KEEP = env.SUPERCHUNK_FUZZ_KEEP === "1";
const WANTED = env.SUPERCHUNK_FUZZ_KINDS?.split(",").map((s) => s.trim());
const KINDS: readonly FuzzKind[] = WANTED
  ? ALL_KINDS.filter((k) => WANTED.includes(k.kind) || WANTED.includes(kindLabel(k)))
  : ALL_KINDS;

let fx: FuzzFixture;
const runners: CommandRunner[] = [];

test.before(async () => {
  fx = await buildFuzzFixture();
  for (let i = 0; i < JOBS; i++) runners.push(new CommandRunner());
});

test.after(async () => {
  await Promise.all(runners.map((r) => r.close()));
  if (!KEEP) cleanupTmp(); // KEEP: the violating cases' directories stay (printed)
});

/** Runs extract then fsck on a prepared case and judges both. */
async function runCase(c: FuzzCase, runner: CommandRunner): Promise<CaseOutcome> {
  const skip = ["out", path.basename(c.target)];
  const before = snapshotDir(c.scratch, skip);
  const ex = await runner.run(["extract", "--quiet", c.target, c.dest], TIMEOUT_MS);
  const between = snapshotDir(c.scratch, skip);
  const extract = judgeExtract(ex, fx.src, c.dest, snapshotChange(before, between));
  const fk = await runner.run(["fsck", c.target], TIMEOUT_MS);
  const escaped = snapshotChange(between, snapshotDir(c.scratch, skip));
  const fsck = escaped
    ? { outcome: "VIOLATION" as const, why: `escape: ${escaped}`, notes: [] }
    : judgeFsck(fk, extract.outcome);
  return { index: c.index, label: kindLabel(c.kind), what: c.what, extract, fsck };
}

/** Path and content of every file below `target` (a file or a directory). */
function contentPrint(target: string): string {
  const h = createHash("sha256");
  const walk = (p: string, rel: string) => {
    if (fs.statSync(p).isDirectory()) {
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), `${rel}/${n}`);
    } else h.update(`${rel}\0`).update(fs.readFileSync(p));
  };
  walk(target, "");
  return h.digest("hex");
}

test("fuzz - every mutator is deterministic under its seed and changes its copy", () => {
  const dir = tmpDir("fuzz-det");
  const pristine = { store: contentPrint(fx.store), archive: contentPrint(fx.archive) };
  ALL_KINDS.forEach((_, i) => {
    // twice in the same place: hostile symlinks hold the case's absolute path
    const a = prepareCase(fx, ALL_KINDS, SEED, i, dir);
    const printA = contentPrint(a.target);
    fs.rmSync(a.scratch, { recursive: true });
    const b = prepareCase(fx, ALL_KINDS, SEED, i, dir);
    const label = kindLabel(a.kind);
    assert.is(b.what, a.what, label);
    assert.is(contentPrint(b.target), printA, `${label}: ${a.what}`);
    assert.is.not(printA, pristine[a.kind.on], `${label} changed nothing: ${a.what}`);
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test("fuzz - through the harness, the pristine store and archive extract identical and fsck clean", async () => {
  const dir = tmpDir("fuzz-clean");
  for (const [name, from] of [
    ["store", fx.store],
    ["store.zip", fx.archive],
  ] as const) {
    const scratch = path.join(dir, name);
    fs.mkdirSync(path.join(scratch, "outside"), { recursive: true });
    const target = path.join(scratch, name);
    fs.cpSync(from, target, { recursive: true });
    const kind = { on: "store", kind: "sc-swap" } as const;
    const c: FuzzCase = {
      index: -1,
      kind,
      what: "none",
      scratch,
      target,
      dest: path.join(scratch, "out"),
      outside: path.join(scratch, "outside"),
    };
    const o = await runCase(c, runners[0] as CommandRunner);
    assert.is(o.extract.outcome, "identical", `${name}: ${o.extract.why}`);
    assert.is(o.fsck.outcome, "clean", `${name}: ${o.fsck.why}`);
  }
});

test("fuzz - the rules flag what they must", () => {
  const empty = tmpDir("fuzz-rules");
  const exit = (code: number, err = "", out = ""): RunResult => ({ kind: "exit", code, out, err });
  const ex = (r: RunResult, escaped?: string) => judgeExtract(r, fx.src, empty, escaped).outcome;
  assert.is(ex(exit(0)), "VIOLATION", "exit 0 with nothing written");
  assert.is(ex(exit(1, "superchunk extract: x: damaged [E_SUPERCHUNK_CORRUPT]\n")), "coded error");
  assert.is(
    ex(
      exit(
        1,
        "superchunk extract: internal error [E_INTERNAL]\ndatabase disk image is malformed\n",
      ),
    ),
    "VIOLATION",
  );
  assert.is(ex(exit(1, "superchunk extract: oops [E_IO]\n    at foo (x.js:1:2)\n")), "VIOLATION");
  assert.is(ex(exit(1, "")), "VIOLATION", "a failure without a message");
  assert.is(
    ex(exit(1, "superchunk extract: x [E_IO]\nsuperchunk extract: y [E_IO]\n")),
    "VIOLATION",
  );
  assert.is(ex({ kind: "timeout", ms: 1 }), "VIOLATION");
  assert.is(ex({ kind: "crash", error: "uncaught UsageError: codec pool is closed" }), "VIOLATION");
  assert.is(ex(exit(1, "superchunk extract: x [E_IO]\n"), "outside/evil.sh changed"), "VIOLATION");
  const fk = (r: RunResult, e: "identical" | "coded error") => judgeFsck(r, e).outcome;
  assert.is(fk(exit(0, "", "checked 1 super-chunks\nclean\n"), "coded error"), "VIOLATION");
  assert.is(fk(exit(0, "", "checked 1 super-chunks\nclean\n"), "identical"), "clean");
  assert.is(fk(exit(0, "", ""), "identical"), "VIOLATION", "exit 0 printing nothing");
  assert.is(
    fk(exit(1, "", "error: x [E_SUPERCHUNK_CORRUPT]\n1 problems remain\n"), "coded error"),
    "caught",
  );
  assert.is(
    fk(exit(2, "superchunk fsck: could not run: x [E_CORRUPT]\n"), "coded error"),
    "VIOLATION",
  );
  assert.is(
    fk(exit(2, "superchunk fsck: could not run: x [E_CORRUPT]\n"), "identical"),
    "could not run",
  );
  assert.is(fk({ kind: "timeout", ms: 1 }, "identical"), "VIOLATION");
});

test(`fuzz - ${COUNT} seeded mutations of a store and its archive: extract is identical or fails with a coded error, fsck reports what extract met`, async () => {
  const dir = tmpDir("fuzz-run");
  console.log(
    `\nfuzz: seed ${SEED}, ${COUNT} cases over ${KINDS.length} kinds, deadline ${TIMEOUT_MS} ms a command, ${JOBS} at once` +
      " (SUPERCHUNK_FUZZ_SEED, _COUNT, _KINDS, _STRICT, _TIMEOUT_MS, _JOBS, _KEEP)",
  );
  const outcomes: CaseOutcome[] = [];
  let next = 0;
  const work = async (runner: CommandRunner) => {
    while (next < COUNT) {
      const i = next++;
      try {
        const c = prepareCase(fx, KINDS, SEED, i, dir);
        const o = await runCase(c, runner);
        outcomes.push(o);
        if (!(KEEP && isViolation(o))) fs.rmSync(c.scratch, { recursive: true, force: true });
      } catch (err) {
        next = COUNT; // a harness error: stop the other runners too
        throw err;
      }
    }
  };
  await Promise.all(runners.map(work));
  outcomes.sort((a, b) => a.index - b.index);
  const bad = outcomes.filter(isViolation);
  console.log(outcomeTable(outcomes, KINDS.map(kindLabel)));
  const notes = notesReport(outcomes);
  if (notes) console.log(`\nnotes (no rule broken):\n${notes}`);
  if (bad.length > 0) {
    console.log(
      `\nviolations (${bad.length} cases; up to 3 a kind; replay with SUPERCHUNK_FUZZ_SEED=${SEED}):`,
    );
    console.log(violationReport(outcomes));
    if (KEEP) console.log(`kept in ${dir}`);
  }
  assert.is(outcomes.length, COUNT);
  if (!STRICT) {
    if (bad.length > 0)
      console.log(`SUPERCHUNK_FUZZ_STRICT=0: ${bad.length} violating cases not failed`);
    return;
  }
  const kinds = [...new Set(bad.map((c) => c.label))];
  assert.is(
    bad.length,
    0,
    `${bad.length} of ${COUNT} damaged copies broke the rules (kinds: ${kinds.join(", ")}); see the table above. ` +
      "These are the promises of a damaged store being read (verified reads, database validation, exit codes, fsck); " +
      "set SUPERCHUNK_FUZZ_STRICT=0 to report without failing.",
  );
});

test.run();
