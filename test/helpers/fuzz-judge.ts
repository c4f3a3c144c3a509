/**
 * The fuzz's outcome rules, applied to one case, and the outcome table.
 *
 * extract (into a fresh directory) must either exit 0 having restored a tree identical to
 * the source (content, type, mode, links, times), or fail: exit ≠ 0 with exactly one error
 * line ending in a code (`... [E_CODE]`; warning lines may come before it, coded too), no
 * stack trace (a `hint:` line after it is allowed). Exit 3 (done, some entries skipped
 * with a warning) may leave entries out but nothing wrong. Never: a change outside the destination (an escape), no answer
 * before the deadline (a hang, or a command that never settles), a crash.
 * fsck must answer, without a stack trace: 0 clean, 1 problems, 2 could not run (one
 * coded line); and whenever extract met damage (any outcome but identical) it must report
 * it: exit 1, never 0, and not 2 either (it must say what is damaged, not that it cannot
 * look).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunResult } from "./fuzz-run.js";
import { compareTrees } from "./tree.js";

export type ExtractOutcome = "identical" | "coded error" | "VIOLATION";
export type FsckOutcome = "clean" | "caught" | "could not run" | "VIOLATION";

/** A verdict on one command of a case. */
export interface Verdict<T> {
  readonly outcome: T;
  /** why, for a violation (or the error line, for a coded error) */
  readonly why: string;
  /** things worth knowing that break no rule (e.g. wrong bytes left behind by a failure) */
  readonly notes: string[];
}

const CODED = /\[E_[A-Z0-9_]+\]$/;
const WARNING = /^superchunk: warning: /;
const STACK = /^\s+at\s|\n\s+at\s/m;
/** The next step, printed under an error when it is known. */
const HINT = /^hint: /;

/** Why `err` is not a proper failure report (one coded error line), or undefined. */
export function failureReportProblem(err: string): string | undefined {
  const lines = err.split("\n").filter((l) => l.trim().length > 0 && !HINT.test(l));
  if (lines.length === 0) return "no error message";
  if (STACK.test(err)) return `a stack trace: ${firstLines(err)}`;
  const uncoded = lines.find((l) => !CODED.test(l));
  if (uncoded !== undefined) return `an uncoded line ${JSON.stringify(clip(uncoded))}`;
  const errors = lines.filter((l) => !WARNING.test(l));
  if (errors.length !== 1) return `${errors.length} error lines: ${firstLines(err)}`;
  return undefined;
}

/** Extract's verdict. `escaped` describes a change outside the destination, if any. */
export function judgeExtract(
  r: RunResult,
  src: string,
  dest: string,
  escaped: string | undefined,
): Verdict<ExtractOutcome> {
  const bad = (why: string): Verdict<ExtractOutcome> => ({ outcome: "VIOLATION", why, notes: [] });
  if (escaped !== undefined) return bad(`escape: ${escaped}`);
  if (r.kind === "timeout") return bad(`no answer in ${r.ms / 1000} s (hang, or never settled)`);
  if (r.kind === "crash") return bad(`crash: ${firstLines(r.error)}`);
  if (STACK.test(r.out) || STACK.test(r.err)) return bad(`exit ${r.code} with a stack trace`);
  const diffs = fs.existsSync(dest) ? compareTrees(src, dest) : [{ path: "/", what: "no dest" }];
  if (r.code === 0) {
    if (diffs.length === 0) return { outcome: "identical", why: "", notes: [] };
    return bad(`exit 0 with ${diffs.length} wrong or missing entries, e.g. ${showDiff(diffs)}`);
  }
  const problem = failureReportProblem(r.err);
  if (problem !== undefined) return bad(`exit ${r.code} with ${problem}`);
  if (r.code === 3) {
    const wrong = diffs.filter((d) => d.what !== "missing in second");
    if (wrong.length > 0)
      return bad(`exit 3 with ${wrong.length} wrong entries, e.g. ${showDiff(wrong)}`);
  }
  const line = r.err.trim().split("\n").pop() as string;
  return { outcome: "coded error", why: clip(line), notes: leftovers(src, dest) };
}

/** fsck's verdict, given extract's outcome on the same damaged copy. */
export function judgeFsck(r: RunResult, extract: ExtractOutcome): Verdict<FsckOutcome> {
  const bad = (why: string): Verdict<FsckOutcome> => ({ outcome: "VIOLATION", why, notes: [] });
  if (r.kind === "timeout") return bad(`no answer in ${r.ms / 1000} s (hang, or never settled)`);
  if (r.kind === "crash") return bad(`crash: ${firstLines(r.error)}`);
  if (STACK.test(r.out) || STACK.test(r.err)) return bad(`exit ${r.code} with a stack trace`);
  const met = extract !== "identical";
  if (r.code === 0) {
    if (!/^clean/m.test(r.out)) return bad(`exit 0 without saying clean: ${firstLines(r.out)}`);
    return met
      ? bad("exit 0 (clean) on damage extract met")
      : { outcome: "clean", why: "", notes: [] };
  }
  if (r.code === 1) {
    const stray = r.err.split("\n").find((l) => l.trim() !== "" && !CODED.test(l) && !HINT.test(l));
    if (stray !== undefined)
      return bad(`exit 1 with an uncoded line ${JSON.stringify(clip(stray))}`);
    if (!/problems remain/.test(r.out))
      return bad(`exit 1 without a verdict: ${firstLines(r.out)}`);
    return { outcome: "caught", why: lastLine(r.out), notes: [] };
  }
  if (r.code === 2) {
    const problem = failureReportProblem(r.err);
    if (problem !== undefined) return bad(`exit 2 with ${problem}`);
    if (met) return bad(`could not run (exit 2) on damage extract met: ${lastLine(r.err)}`);
    return { outcome: "could not run", why: lastLine(r.err), notes: [] };
  }
  return bad(`exit ${r.code}: ${firstLines(r.err)}`);
}

/** What a failed extract left that is not a prefix of the source (informational). */
function leftovers(src: string, dest: string): string[] {
  if (!fs.existsSync(dest)) return [];
  let wrong = 0;
  let foreign = 0;
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dest, rel))) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dest, r));
      const s = fs.lstatSync(path.join(src, r), { throwIfNoEntry: false });
      if (s === undefined) foreign++;
      else if (st.isDirectory()) walk(r);
      else if (st.isFile() && s.isFile()) {
        const got = fs.readFileSync(path.join(dest, r));
        const want = fs.readFileSync(path.join(src, r));
        if (got.length > want.length || !want.subarray(0, got.length).equals(got)) wrong++;
      }
    }
  };
  walk("");
  const notes: string[] = [];
  if (wrong > 0) notes.push("failed, leaving files with wrong bytes");
  if (foreign > 0) notes.push("failed, leaving paths the source does not have");
  return notes;
}

/** A fingerprint of everything below `dir` but the `skip` names at its top (for escapes). */
export function snapshotDir(dir: string, skip: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      if (rel === "" && skip.includes(name)) continue;
      const r = path.join(rel, name);
      const abs = path.join(dir, r);
      const st = fs.lstatSync(abs, { bigint: true });
      let sig = `${st.mode} ${st.ino} ${st.size} ${st.mtimeNs} ${st.nlink}`;
      if (st.isFile()) sig += ` ${createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}`;
      if (st.isSymbolicLink()) sig += ` -> ${fs.readlinkSync(abs)}`;
      out.set(r, sig);
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

/** The changes between two snapshots, described; undefined when none. */
export function snapshotChange(a: Map<string, string>, b: Map<string, string>): string | undefined {
  const changed = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  if (changed.length === 0) return undefined;
  return changed
    .slice(0, 3)
    .map((k) => `${k} ${a.has(k) ? (b.has(k) ? "changed" : "removed") : "created"}`)
    .join(", ");
}

function showDiff(diffs: readonly { path: string; what: string }[]): string {
  const d = diffs[0] as { path: string; what: string };
  return clip(`${d.path}: ${d.what}`);
}

function clip(s: string, n = 160): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function firstLines(s: string): string {
  return clip(s.trim().split("\n").slice(0, 2).join(" ⏎ "));
}

function lastLine(s: string): string {
  return clip(s.trim().split("\n").pop() ?? "");
}

/** One judged case. */
export interface CaseOutcome {
  readonly index: number;
  /** the kind's label, e.g. "store sc-swap" */
  readonly label: string;
  /** what the mutator did */
  readonly what: string;
  readonly extract: Verdict<ExtractOutcome>;
  readonly fsck: Verdict<FsckOutcome>;
}

/** True when the case broke a rule. */
export function isViolation(c: CaseOutcome): boolean {
  return c.extract.outcome === "VIOLATION" || c.fsck.outcome === "VIOLATION";
}

/** The rule a violating case broke first, as a short phrase. */
function violationOf(c: CaseOutcome): string {
  if (c.extract.outcome === "VIOLATION") return `extract: ${c.extract.why}`;
  return `fsck: ${c.fsck.why}`;
}

/**
 * The outcome table: one row per kind (in `labels` order): runs; extract identical; extract
 * failed with a coded error; fsck caught the damage (exit 1); cases with a violation; and
 * the first violation's rule.
 */
export function outcomeTable(cases: readonly CaseOutcome[], labels: readonly string[]): string {
  const head = [
    "mutation kind",
    "runs",
    "identical",
    "coded error",
    "fsck caught",
    "VIOLATION",
    "first violation",
  ];
  const rows = labels.map((label) => {
    const mine = cases.filter((c) => c.label === label);
    const count = (f: (c: CaseOutcome) => boolean) => String(mine.filter(f).length);
    const first = mine.find(isViolation);
    return [
      label,
      String(mine.length),
      count((c) => c.extract.outcome === "identical"),
      count((c) => c.extract.outcome === "coded error"),
      count((c) => c.fsck.outcome === "caught"),
      count(isViolation),
      first ? clip(violationOf(first), 110) : "",
    ];
  });
  const total = [
    "total",
    String(cases.length),
    ...[2, 3, 4, 5].map((i) => String(rows.reduce((n, r) => n + Number(r[i]), 0))),
    "",
  ];
  const all = [head, ...rows, total];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join(" | ")
      .trimEnd();
  return [
    line(head),
    widths.map((w) => "-".repeat(w)).join("-|-"),
    ...rows.map(line),
    line(total),
  ].join("\n");
}

/** The violating cases, at most `perKind` of each kind, one paragraph each, for replay. */
export function violationReport(cases: readonly CaseOutcome[], perKind = 3): string {
  const shown = new Map<string, number>();
  const out: string[] = [];
  for (const c of cases.filter(isViolation)) {
    const n = shown.get(c.label) ?? 0;
    shown.set(c.label, n + 1);
    if (n >= perKind) continue;
    out.push(
      `#${c.index} ${c.label}: ${c.what}\n    extract: ${c.extract.outcome} ${c.extract.why}\n    fsck: ${c.fsck.outcome} ${c.fsck.why}`,
    );
  }
  return out.join("\n");
}

/** Informational notes (no rule broken) summed by kind: e.g. failures that left wrong bytes. */
export function notesReport(cases: readonly CaseOutcome[]): string {
  const byKind = new Map<string, Map<string, number>>();
  for (const c of cases) {
    for (const note of [...c.extract.notes, ...c.fsck.notes]) {
      const m = byKind.get(c.label) ?? new Map<string, number>();
      m.set(note, (m.get(note) ?? 0) + 1);
      byKind.set(c.label, m);
    }
  }
  return [...byKind]
    .map(([k, m]) => `${k}: ${[...m].map(([note, n]) => `${note} (${n}×)`).join("; ")}`)
    .join("\n");
}
