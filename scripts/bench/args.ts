/**
 * Command line of `npm run bench`: `[--quick] [--only id,id]`. Pure. The pseudo-tool
 * `write` in `--only` selects the write columns (write-bench.ts), which a run without
 * `--only` includes.
 */

import { UsageError } from "../../src/errors.js";
import { isToolId, TOOL_IDS, type ToolId } from "./catalogue.js";

/** Parsed options of the benchmark. */
export interface BenchArgs {
  /** Two releases (5.8.3, 5.9.3) instead of ten, for a fast check. */
  readonly quick: boolean;
  /** The tools to run, in catalogue order. */
  readonly tools: readonly ToolId[];
  /** Run the write columns (copy into a read-write mount). */
  readonly write: boolean;
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
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (arg === "--quick") quick = true;
    else if (arg === "--only") only = splitList(argv[++i], arg);
    else if (arg.startsWith("--only=")) only = splitList(arg.slice("--only=".length), "--only");
    else throw new UsageError("E_USAGE", `unknown argument ${arg}`, { arg });
  }
  const write = only === null || only.includes(WRITE_ID);
  const tools = only === null ? [...TOOL_IDS] : only.filter((id) => id !== WRITE_ID);
  return {
    quick,
    tools: write && only !== null && tools.length === 0 ? [] : selectTools(tools),
    write,
  };
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
