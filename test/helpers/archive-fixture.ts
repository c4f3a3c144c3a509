/** A packed sample tree and its sealed archive, for the archive tests. */
import * as fs from "node:fs";
import * as path from "node:path";
import { type SealOptions, sealStore } from "../../src/export/seal.js";
import { packTree } from "../../src/pack/pack.js";
import { makeSampleTree, tmpDir } from "./tree.js";

/** Paths of a sealed fixture: the source tree, its store and the archive (in `root`). */
export interface SealedFixture {
  readonly root: string;
  readonly src: string;
  readonly store: string;
  readonly archive: string;
}

/** Small super-chunks, so one small file's read touches a small part of the archive. */
export const FIXTURE_SUPERCHUNK_BYTES = 256 * 1024;

/** Packs the sample tree with small super-chunks and seals it into `<root>/www/tree.zip`. */
export async function sealedFixture(opts: SealOptions = {}): Promise<SealedFixture> {
  const root = tmpDir("arch");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: FIXTURE_SUPERCHUNK_BYTES });
  fs.mkdirSync(path.join(root, "www"));
  const archive = path.join(root, "www", "tree.zip");
  await sealStore(store, archive, opts);
  return { root, src, store, archive };
}
