/**
 * Sharing as files see it: each live sub-block's bytes by how many file references reach
 * them (each inode using a content counts once per extent naming the sub-block), and how
 * much of them lie in whole-file duplicates: files whose whole content is identical to
 * another file's share one content row, so the sub-blocks' own refcounts (one per content
 * extent) do not show them.
 */
import type { StoreSnapshot } from "../meta/store-snapshot.js";

/** Sub-blocks referenced between `minRefs` and `maxRefs` times (extents over all files). */
export interface SharingBucket {
  label: string;
  minRefs: number;
  maxRefs: number;
  subBlocks: number;
  bytes: number;
}

/** A bucket of file references, with the bytes shared only by identical whole files. */
export interface FileSharingBucket extends SharingBucket {
  /** bytes of sub-blocks in files identical to another file (a content several files use) */
  wholeFileBytes: number;
}

/** Files whose content is another file's too (every file of each such group counts). */
export function duplicateFiles(snap: StoreSnapshot): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const c of snap.contents.values()) {
    if (c.refcount < 2) continue;
    files += c.refcount;
    bytes += c.size * (c.refcount - 1);
  }
  return { files, bytes };
}

/** The bucket of `refs` in `buckets` (0 (dead), 1, 2, 3–4, 5–8, …), added when missing. */
export function bucketOf<B extends SharingBucket>(
  buckets: B[],
  refs: number,
  make: (label: string, lo: number, hi: number) => B,
): B {
  while (buckets[buckets.length - 1]!.maxRefs < refs) {
    const lo = buckets[buckets.length - 1]!.maxRefs + 1;
    const hi = 2 ** Math.ceil(Math.log2(lo));
    buckets.push(make(lo === hi ? String(lo) : `${lo}–${hi}`, lo, hi));
  }
  return buckets.find((x) => refs >= x.minRefs && refs <= x.maxRefs)!;
}

/** Sub-block bytes by file references, whole-file duplicates apart. */
export function fileSharingHistogram(snap: StoreSnapshot): FileSharingBucket[] {
  const refs = new Map<number, number>();
  /** sub-blocks of a content that several files use */
  const inDuplicates = new Set<number>();
  for (const c of snap.contents.values()) {
    if (c.refcount < 1) continue;
    for (const code of c.codes ?? []) {
      if (code <= 0) continue;
      refs.set(code, (refs.get(code) ?? 0) + c.refcount);
      if (c.refcount > 1) inDuplicates.add(code);
    }
  }
  const make = (label: string, minRefs: number, maxRefs: number): FileSharingBucket => ({
    label,
    minRefs,
    maxRefs,
    subBlocks: 0,
    bytes: 0,
    wholeFileBytes: 0,
  });
  const buckets = [make("0 (dead)", 0, 0), make("1", 1, 1)];
  for (const sb of snap.subBlocks.values()) {
    const r = refs.get(sb.id) ?? 0;
    const b = bucketOf(buckets, r, make);
    b.subBlocks++;
    b.bytes += sb.length;
    if (inDuplicates.has(sb.id)) b.wholeFileBytes += sb.length;
  }
  return buckets;
}
