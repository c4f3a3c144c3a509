/**
 * Command line of `npm run bench`: `[--quick] [--only id,id] [--corpus typescript|kernel|doc]
 * [--runs N] [--no-codec-limit]`. Pure. The pseudo-tool `write` in `--only` selects the write columns
 * (write-bench.ts), which a run without `--only` includes.
 */

import { UsageError } from "../../src/errors.js";
import { isToolId, TOOL_IDS, type ToolId } from "./catalogue.js";

/**
 * The corpora the benchmark knows: `npm run corpus`, `npm run corpus -- kernel`, and `doc`,
 * this machine's /usr/share/doc (low redundancy), copied into the scratch folder per run.
 */
export const CORPUS_IDS = ["typescript", "kernel", "doc"] as const;
/** One of {@link CORPUS_IDS}. */
export type CorpusId = (typeof CORPUS_IDS)[number];

/** Runs of each read session when `--runs` is not given. */
export const DEFAULT_RUNS = 3;

/** Parsed options of the benchmark. */
export interface BenchArgs {
  /**
   * A fast check on part of the corpus: typescript, two releases (5.8.3, 5.9.3) instead
   * of ten; kernel, only `include/` of both trees.
   */
  readonly quick: boolean;
  /** The corpus to pack and read (default typescript). */
  readonly corpus: CorpusId;
  /** How many times each read session runs, each on a fresh mount (default 3). */
  readonly runs: number;
  /** The tools to run, in catalogue order. */
  readonly tools: readonly ToolId[];
  /** Run the write columns (copy into a read-write mount). */
  readonly write: boolean;
  /** Time zstd -19 alone on the distinct files (the codec limit); off with --no-codec-limit. */
  readonly codecLimit: boolean;
}

/** The pseudo-tool naming the write columns in `--only`. */
export const WRITE_ID = "write";

/**
 * Parses the arguments after the script name. Bare `--` separators (as npm may pass them
 * through) are ignored; `--only` takes a comma-separated list, as the next argument or
 * after `=`. Throws UsageError E_USAGE on anything else.
 */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let only: string[] | null = null;
  let corpus: CorpusId = "typescript";
  let runs = DEFAULT_RUNS;
  let codecLimit = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? splitFlag(arg) : [arg];
    const value = () => inline ?? argv[++i];
    if (arg === "--") continue;
    if (arg === "--quick") quick = true;
    else if (arg === "--no-codec-limit") codecLimit = false;
    else if (flag === "--only") only = splitList(value(), flag);
    else if (flag === "--corpus") corpus = corpusId(value());
    else if (flag === "--runs") runs = runCount(value());
    else throw new UsageError("E_USAGE", `unknown argument ${arg}`, { arg });
  }
  const write = only === null || only.includes(WRITE_ID);
  const tools = only === null ? [...TOOL_IDS] : only.filter((id) => id !== WRITE_ID);
  return {
    quick,
    corpus,
    runs,
    codecLimit,
    tools: write && only !== null && tools.length === 0 ? [] : selectTools(tools),
    write,
  };
}

function splitFlag(arg: string): [string, string] {
  const at = arg.indexOf("=");
  return [arg.slice(0, at), arg.slice(at + 1)];
}

function corpusId(value: string | undefined): CorpusId {
  const known = CORPUS_IDS as readonly string[];
  if (value === undefined || !known.includes(value))
    throw new UsageError("E_USAGE", `--corpus takes ${CORPUS_IDS.join(" or ")}`, { value });
  return value as CorpusId;
}

function runCount(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > 99)
    throw new UsageError("E_USAGE", "--runs takes a whole number from 1 to 99", { value });
  return n;
}

function splitList(value: string | undefined, flag: string): string[] {
  if (value === undefined || value.startsWith("--")) {
    throw new UsageError("E_USAGE", `${flag} needs a comma-separated list of tools`, { flag });
  }
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function selectTools(only: readonly string[]): ToolId[] {
  const unknown = only.filter((id) => !isToolId(id));
  if (unknown.length > 0 || only.length === 0) {
    throw new UsageError(
      "E_USAGE",
      `unknown tool ${unknown.join(", ") || "(none given)"}; known: ${TOOL_IDS.join(", ")}, ${WRITE_ID}`,
      { unknown },
    );
  }
  return TOOL_IDS.filter((id) => only.includes(id));
}
