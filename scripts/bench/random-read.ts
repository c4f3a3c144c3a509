/**
 * Child process of the benchmark: `node random-read.js <root> <plan.json> [--reopen]`
 * performs the random-read plan under `root` sequentially with fs.readSync on file
 * descriptors (opened on first use and kept open, inside the timed span; with `--reopen`,
 * as many programs do, `open`, `pread`, `close` for every read) and prints one JSON line:
 * the seconds the reads took, the bytes read, and a SHA-256 of all of them so every tool
 * can be checked against the raw corpus.
 */

import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReadPlan } from "./read-plan.js";

/** What the child prints. */
export interface RandomReadReport {
  readonly seconds: number;
  readonly bytes: number;
  readonly sha256: string;
}

function readFully(fd: number, into: Buffer, offset: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Performs `plan` under `root`, files kept open or (`reopen`) opened and closed around
 * every read; the reads' bytes are hashed after the clock stops.
 */
export function performPlan(root: string, plan: ReadPlan, reopen = false): RandomReadReport {
  const total = plan.reads.reduce((n, r) => n + r.length, 0);
  const out = Buffer.alloc(total);
  const fds = new Map<number, number>();
  let at = 0;
  const started = process.hrtime.bigint();
  try {
    for (const r of plan.reads) {
      let fd = fds.get(r.file);
      if (fd === undefined) {
        fd = openSync(join(root, plan.files[r.file]!.path), "r");
        fds.set(r.file, fd);
      }
      at += readFully(fd, out.subarray(at, at + r.length), r.offset);
      if (reopen) {
        fds.delete(r.file);
        closeSync(fd);
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    seconds,
    bytes: at,
    sha256: createHash("sha256").update(out.subarray(0, at)).digest("hex"),
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [root, planFile, mode] = process.argv.slice(2);
  if (root === undefined || planFile === undefined || (mode ?? "--reopen") !== "--reopen") {
    process.stderr.write("usage: random-read.js <root> <plan.json> [--reopen]\n");
    process.exit(2);
  }
  const plan = JSON.parse(readFileSync(planFile, "utf8")) as ReadPlan;
  process.stdout.write(`${JSON.stringify(performPlan(root, plan, mode === "--reopen"))}\n`);
}
