/**
 * Scan phase of pack: every regular file goes through the scan workers (cut,
 * hash, sketch); results are folded into a PackIndex in walk order so dedup is
 * deterministic. A file that cannot be read is skipped with a warning.
 */
import type { ChunkerParams } from "../chunker/chunker-params.js";
import { EngineError } from "../errors.js";
import { SKETCH_WORDS } from "../similarity/sketch.js";
import { PackIndex } from "./pack-index.js";
import type { PackHooks } from "./pack-options.js";
import type { ScanPool, ScanResult } from "./scan-pool.js";
import type { WalkEntry } from "./walker.js";

export async function scanTree(
  entries: readonly WalkEntry[],
  pool: ScanPool,
  params: ChunkerParams,
  threads: number,
  hooks: PackHooks,
): Promise<PackIndex> {
  const index = new PackIndex(entries);
  const todo = regularFiles(entries, index);
  const bytesTotal = todo.reduce((s, i) => s + Number(entries[i]!.stat.size), 0);
  const inFlight: Promise<ScanResult | EngineError>[] = [];
  const window = Math.max(2, threads * 2);
  let next = 0;
  let bytesDone = 0;
  const launch = () => {
    const e = entries[todo[next++]!]!;
    inFlight.push(pool.scan(e.abs, params).catch((err: unknown) => asEngineError(err)));
  };
  for (let done = 0; done < todo.length; done++) {
    while (next < todo.length && inFlight.length < window) launch();
    const res = await inFlight.shift()!;
    const entry = todo[done]!;
    if (res instanceof EngineError) {
      if (res.family !== "io" && res.family !== "notfound") throw res;
      index.skipped.add(entry);
      hooks.onWarning?.({
        path: entries[entry]!.abs.toString(),
        code: res.code,
        message: res.message,
      });
    } else {
      index.addFile(entry, res, SKETCH_WORDS);
    }
    bytesDone += Number(entries[entry]!.stat.size);
    hooks.onProgress?.({
      phase: "scan",
      filesDone: done + 1,
      filesTotal: todo.length,
      bytesDone,
      bytesTotal,
    });
  }
  return index;
}

/** Regular files to scan, in walk order; later members of a hard-link group are linked instead. */
function regularFiles(entries: readonly WalkEntry[], index: PackIndex): number[] {
  const firstOfInode = new Map<string, number>();
  const out: number[] = [];
  entries.forEach((e, i) => {
    if (!e.stat.isFile()) return;
    if (e.stat.nlink > 1n) {
      const key = `${e.stat.dev}:${e.stat.ino}`;
      const first = firstOfInode.get(key);
      if (first !== undefined) {
        index.hardLinkOf.set(i, first);
        return;
      }
      firstOfInode.set(key, i);
    }
    out.push(i);
  });
  return out;
}

function asEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  throw err;
}
