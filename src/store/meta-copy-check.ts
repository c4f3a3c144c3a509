/**
 * A packed database checked against its metadata copy (meta-copy.ts). A packed database is
 * never written again, so when its `meta_copy` generation is the newest whole copy, the two
 * hold the same tree; a tree that differs (names, entries, inodes, contents edited in the
 * database with its checksums made to match) is damage: E_CORRUPT, naming the store and
 * pointing at `fsck --rebuild`. A plain database (a store a writer changes) may be ahead of
 * its copy and is not checked; neither is a store without a copy.
 */
import { createHash } from "node:crypto";
import type { BlobStore } from "../blobstore/blob-store.js";
import { CorruptError, EngineError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { readHeader } from "../superchunk/read-header.js";
import { metaCopyKey, splitImage } from "./meta-copy.js";
import { copyGenerationOf, findNewestCopy } from "./meta-copy-write.js";

/**
 * Throws E_CORRUPT when `meta`, read from the packed database's SQLite `image`, and its
 * copy hold different trees.
 */
export async function checkTreeAgainstCopy(
  image: Buffer,
  meta: MetaDb,
  blobs: BlobStore,
  label: string,
): Promise<void> {
  const generation = copyGenerationOf(meta);
  if (generation === 0) return;
  // most packed databases are byte for byte their copy (pack, seal): the copy's headers
  // say so without inflating it or reading either tree
  if (await sameBytesAsCopy(image, blobs, generation)) return;
  const { copy } = await findNewestCopy(blobs, label);
  if (copy === undefined || copy.generation !== generation) return;
  const theirs = MetaDb.fromBuffer(copy.raw, `${label} (metadata copy ${generation})`);
  let same: boolean;
  try {
    same = theirs.treeDigest() === meta.treeDigest();
  } finally {
    theirs.close();
  }
  if (!same) {
    throw new CorruptError(
      "E_CORRUPT",
      `${label}: the database's tree differs from its metadata copy ${generation}; \`superchunk fsck --rebuild ${label}\` restores it`,
      { path: label, generation },
    );
  }
}

/**
 * True when the parts of copy `generation` are exactly `image`'s slices: each part's header
 * lists one entry of the slice's length and SHA-256, and there is no further part. Any
 * other answer (a missing or unreadable part) leaves the decision to the tree comparison.
 */
async function sameBytesAsCopy(
  image: Buffer,
  blobs: BlobStore,
  generation: number,
): Promise<boolean> {
  const parts = splitImage(image);
  if (await blobs.has(metaCopyKey(generation, parts.length))) return false;
  try {
    for (let i = 0; i < parts.length; i++) {
      const key = metaCopyKey(generation, i);
      const h = await readHeader((length) => blobs.get(key, { offset: 0, length }));
      const e = h.entries[0];
      const same =
        h.entries.length === 1 &&
        e !== undefined &&
        e.length === parts[i]!.length &&
        createHash("sha256").update(parts[i]!).digest().equals(e.hash);
      if (!same) return false;
    }
    return true;
  } catch (err) {
    if (err instanceof EngineError) return false;
    throw err;
  }
}
