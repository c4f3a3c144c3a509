/**
 * Sizes of directory trees as `du -sb` sees them (apparent bytes, not blocks), and the list
 * of a tree's regular files.
 */

import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { CorpusFile } from "./read-plan.js";

/** Counts of a tree. `apparentBytes` adds every entry's lstat size, directories included (= `du -sb`). */
export interface TreeStats {
  readonly files: number;
  readonly fileBytes: number;
  readonly apparentBytes: number;
}

/** Regular files under `root`, paths relative to it with `/`, sorted by path. */
export function listFiles(root: string): CorpusFile[] {
  const found: CorpusFile[] = [];
  const visit = (rel: string) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) found.push({ path, size: lstatSync(join(root, path)).size });
    }
  };
  visit("");
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Stats of the file or tree at `path` (symlinks are not followed). */
export function treeStats(path: string): TreeStats {
  const st = lstatSync(path);
  if (!st.isDirectory()) {
    return {
      files: st.isFile() ? 1 : 0,
      fileBytes: st.isFile() ? st.size : 0,
      apparentBytes: st.size,
    };
  }
  let files = 0;
  let fileBytes = 0;
  let apparentBytes = st.size;
  for (const name of readdirSync(path)) {
    const sub = treeStats(join(path, name));
    files += sub.files;
    fileBytes += sub.fileBytes;
    apparentBytes += sub.apparentBytes;
  }
  return { files, fileBytes, apparentBytes };
}
