/**
 * A packed database checked against its metadata copy (meta-copy.ts). A packed database is
 * never written again, so when its `meta_copy` generation is the newest whole copy, the two
 * hold the same tree; a tree that differs (names, entries, inodes, contents edited in the
 * database with its checksums made to match) is damage: E_CORRUPT, naming the store and
 * pointing at `fsck --rebuild`. A plain database (a store a writer changes) may be ahead of
 * its copy and is not checked; neither is a store without a copy.
 */
import type { BlobStore } from "../blobstore/blob-store.js";
import { CorruptError } from "../errors.js";
import { MetaDb } from "../meta/meta-db.js";
import { copyGenerationOf, findNewestCopy } from "./meta-copy-write.js";

/** Throws E_CORRUPT when `meta` (a packed database) and its copy hold different trees. */
export async function checkTreeAgainstCopy(
  meta: MetaDb,
  blobs: BlobStore,
  label: string,
): Promise<void> {
  const generation = copyGenerationOf(meta);
  if (generation === 0) return;
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
