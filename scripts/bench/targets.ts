/**
 * The design targets of the benchmark, per corpus, checked against a superchunk row:
 * against squashfuse on the mksquashfs zstd-19 image, the kernel's own driver on that
 * image, the time zstd -19 alone needs (codec-limit.ts), and memory budgets. Pure.
 */

import type { CorpusId } from "./args.js";
import { KERNEL_REFERENCE, PACK_REFERENCE, READ_REFERENCE, type ToolId } from "./catalogue.js";
import type { CodecLimit } from "./codec-limit.js";
import type { PhaseId } from "./phases.js";
import { phaseMedian, type ToolResult } from "./tool-result.js";

const MIB_KIB = 1024;
/** The mount's default `--cache-size`, MiB, and what a mount may use beyond it. */
const MOUNT_CACHE_MIB = 512;
const MOUNT_OVERHEAD_MIB = 100;
/** Pack's memory budget, MiB. */
const PACK_BUDGET_MIB = 512;

/** One design target checked against a result. */
export interface TargetCheck {
  readonly what: string;
  readonly value: number | null;
  readonly limit: number;
  /** null when the value could not be measured. */
  readonly met: boolean | null;
}

/** The run around a result: what the targets depend on besides the rows. */
export interface TargetContext {
  readonly corpus: CorpusId;
  /** The corpus's total file bytes. */
  readonly rawBytes: number;
  /** zstd -19 alone on the unique bytes, when measured. */
  readonly limit: CodecLimit | null;
}

/** `a / b`, or null when either is missing or `b` is not positive. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !(b > 0)) return null;
  return a / b;
}

function check(what: string, value: number | null, limit: number): TargetCheck {
  return { what, value, limit, met: value === null ? null : value <= limit };
}

/** The checks shared by both corpora: pack against mksquashfs and zstd alone, memory. */
function commonChecks(ours: ToolResult, peer: ToolResult | undefined, ctx: TargetContext) {
  const packLimit = ctx.corpus === "typescript" ? 0.4 : 1.0;
  const kib = (v: number | null) => (v === null ? null : v / MIB_KIB);
  return [
    check(
      `pack time / ${PACK_REFERENCE}`,
      ratio(ours.packSeconds, peer?.packSeconds ?? null),
      packLimit,
    ),
    check("pack time / zstd -19 alone", ratio(ours.packSeconds, ctx.limit?.seconds ?? null), 1.15),
    check("pack peak RSS MiB", kib(ours.packPeakRssKiB), PACK_BUDGET_MIB),
    check("mount peak RSS MiB", kib(ours.mountPeakRssKiB), MOUNT_CACHE_MIB + MOUNT_OVERHEAD_MIB),
  ];
}

/** `phase` of `ours` over the same phase of `ref`, checked against `limit`. */
function phaseCheck(
  ours: ToolResult,
  ref: ToolResult | undefined,
  refId: ToolId,
  phase: PhaseId,
  limit: number,
) {
  const value = ref === undefined ? null : ratio(phaseMedian(ours, phase), phaseMedian(ref, phase));
  return check(`${phase} / ${refId}`, value, limit);
}

/** The design targets for `ours` on `ctx.corpus`, against the reference rows when measured. */
export function checkTargets(
  ours: ToolResult,
  byId: ReadonlyMap<ToolId, ToolResult>,
  ctx: TargetContext,
): TargetCheck[] {
  const fuse = byId.get(READ_REFERENCE);
  const kernel = byId.get(KERNEL_REFERENCE);
  const common = commonChecks(ours, byId.get(PACK_REFERENCE), ctx);
  if (ctx.corpus === "kernel") {
    return [
      ...common,
      phaseCheck(ours, fuse, READ_REFERENCE, "readAll", 1.0),
      phaseCheck(ours, fuse, READ_REFERENCE, "newest", 1.0),
      phaseCheck(ours, kernel, KERNEL_REFERENCE, "walkCold", 3.0),
      phaseCheck(ours, kernel, KERNEL_REFERENCE, "walkWarm", 1.5),
      phaseCheck(ours, kernel, KERNEL_REFERENCE, "newest", 2.5),
    ];
  }
  // a low-redundancy tree: pack at mksquashfs's speed, squashfuse still beaten
  if (ctx.corpus === "doc") {
    return [...common, phaseCheck(ours, fuse, READ_REFERENCE, "readAll", 1.0)];
  }
  return [
    check("size / raw", ratio(ours.sizeBytes, ctx.rawBytes), 0.016),
    ...common,
    phaseCheck(ours, fuse, READ_REFERENCE, "readAll", 1.0),
    phaseCheck(ours, fuse, READ_REFERENCE, "random", 1.0),
    phaseCheck(ours, fuse, READ_REFERENCE, "randomReopen", 1.0),
    phaseCheck(ours, fuse, READ_REFERENCE, "newest", 1.5),
  ];
}

/** Target checks as markdown list lines. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => {
      const v = c.value === null || !Number.isFinite(c.value) ? "–" : c.value.toFixed(4);
      const verdict = c.met === null ? "not measured" : c.met ? "met" : "MISSED";
      return `- ${c.what}: ${v} (target ≤ ${c.limit}) — ${verdict}`;
    })
    .join("\n");
}
