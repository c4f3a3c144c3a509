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
import type { WalkTable } from "./walk-table.js";

export async function scanTree(
  entries: WalkTable,
  pool: ScanPool,
  params: ChunkerParams,
  threads: number,
  hooks: PackHooks,
): Promise<PackIndex> {
  const files = regularFiles(entries);
  const todo = files.todo;
  let bytesTotal = 0;
  let subBlocks = 0;
  for (const i of todo) {
    bytesTotal += entries.size(i);
    subBlocks += Math.max(1, Math.ceil(entries.size(i) / params.avgBytes));
  }
  const index = new PackIndex(entries, SKETCH_WORDS, { files: todo.length, subBlocks });
  for (const [later, first] of files.hardLinkOf) index.hardLinkOf.set(later, first);
  const inFlight: Promise<ScanResult | EngineError>[] = [];
  const window = Math.max(2, threads * 2);
  let next = 0;
  let bytesDone = 0;
  const launch = () => {
    const abs = entries.abs(todo[next++]!);
    inFlight.push(pool.scan(abs, params).catch((err: unknown) => asEngineError(err)));
  };
  for (let done = 0; done < todo.length; done++) {
    while (next < todo.length && inFlight.length < window) launch();
    const res = await inFlight.shift()!;
    const entry = todo[done]!;
    if (res instanceof EngineError) {
      if (res.family !== "io" && res.family !== "notfound") throw res;
      index.skipped.add(entry);
      hooks.onWarning?.({
        path: entries.abs(entry).toString(),
        code: res.code,
        message: res.message,
      });
    } else {
      index.addFile(entry, res);
    }
    bytesDone += entries.size(entry);
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
function regularFiles(entries: WalkTable) {
  const hardLinkOf = new Map<number, number>();
  const firstOfInode = new Map<string, number>();
  const out = new Uint32Array(entries.length);
  let n = 0;
  for (let i = 0; i < entries.length; i++) {
    if (!entries.isFile(i)) continue;
    const key = entries.inodeKey(i);
    if (key !== undefined) {
      const first = firstOfInode.get(key);
      if (first !== undefined) {
        hardLinkOf.set(i, first);
        continue;
      }
      firstOfInode.set(key, i);
    }
    out[n++] = i;
  }
  return { todo: out.slice(0, n), hardLinkOf };
}

function asEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  throw err;
}
