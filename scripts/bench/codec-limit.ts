/**
 * The physical limit pack is compared to: the wall time `zstd -19 -T0` alone needs to
 * compress the corpus's unique bytes on this machine's cores. The unique bytes are
 * approximated by the distinct files (identical contents counted once, found by SHA-256):
 * a stand-in for the unique sub-blocks, which only a pack knows, and so labelled.
 */

import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CorpusFile } from "./read-plan.js";
import { assertSuccess, runProcess } from "./spawn.js";

/** What the limit measurement found. */
export interface CodecLimit {
  /** What was compressed and how, for the report. */
  readonly label: string;
  /** Wall seconds of the compression (input already in the page cache). */
  readonly seconds: number;
  /** Distinct files and their bytes (the input). */
  readonly files: number;
  readonly inputBytes: number;
  /** Bytes zstd wrote. */
  readonly outputBytes: number;
}

const LABEL =
  "zstd -19 -T0 over the distinct files (file-level dedup; stand-in for the unique bytes)";
const READ_BYTES = 1 << 20;

function digestOf(path: string, buf: Buffer): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; ) {
      h.update(buf.subarray(0, n));
      n = readSync(fd, buf, 0, buf.length, null);
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** The files of `files` with distinct contents (the first of each), reading them under `root`. */
export function distinctFiles(root: string, files: readonly CorpusFile[]): CorpusFile[] {
  const seen = new Set<string>();
  const buf = Buffer.alloc(READ_BYTES);
  return files.filter((f) => {
    const d = digestOf(join(root, f.path), buf);
    if (seen.has(d)) return false;
    seen.add(d);
    return true;
  });
}

/**
 * Compresses the distinct files of the corpus at `root` with `zstd -19 -T0` (their bytes
 * concatenated, in path order) and times it; the list of files goes to `work`. Reading
 * them for the digests first leaves them in the page cache. Throws IoError E_IO when zstd fails.
 */
export async function measureCodecLimit(
  root: string,
  files: readonly CorpusFile[],
  work: string,
): Promise<CodecLimit> {
  const distinct = distinctFiles(root, files);
  const list = join(work, "distinct-files.list");
  writeFileSync(list, distinct.map((f) => `${f.path}\0`).join(""));
  const script = 'set -o pipefail; xargs -0 -a "$1" cat -- | zstd -19 -T0 -q -c | wc -c';
  const r = await runProcess("bash", ["-c", script, "bash", list], { cwd: root });
  assertSuccess("zstd -19 -T0 of the distinct files", r);
  return {
    label: LABEL,
    seconds: r.seconds,
    files: distinct.length,
    inputBytes: distinct.reduce((n, f) => n + f.size, 0),
    outputBytes: Number(r.stdout.trim()),
  };
}
