/**
 * The BlobStore contract (test/helpers/blob-store-contract.ts) on the local backends: memory,
 * a directory, and a zip archive (read-only: the read half). HTTP and S3 run it in
 * test/e2e/blob-store-contract.test.ts.
 */
import * as path from "node:path";
import { test } from "uvu";
import type { BlobStore } from "../../src/blobstore/blob-store.js";
import { FileByteSource } from "../../src/blobstore/byte-source.js";
import { DirBlobStore } from "../../src/blobstore/dir-blob-store.js";
import { MemoryBlobStore } from "../../src/blobstore/memory-blob-store.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { writeZipArchive } from "../../src/zip/zip-writer.js";
import { blobStoreContract, zipOf } from "../helpers/blob-store-contract.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

/** `store` after putting every blob into it. */
async function filled<S extends BlobStore>(store: S, blobs: ReadonlyMap<string, Buffer>) {
  for (const [key, data] of blobs) await store.put(key, data);
  return store;
}

blobStoreContract("blob-store memory", (blobs) => filled(new MemoryBlobStore(), blobs));

blobStoreContract(
  "blob-store dir",
  (blobs) => filled(new DirBlobStore(path.join(tmpDir("contract-dir"), "store")), blobs),
  { reopen: async (s) => new DirBlobStore((s as DirBlobStore).root) },
);

blobStoreContract(
  "blob-store zip",
  async (blobs) => {
    const file = path.join(tmpDir("contract-zip"), "store.zip");
    await writeZipArchive(file, zipOf(blobs));
    return ZipBlobStore.open(new FileByteSource(file));
  },
  { readOnly: true },
);

test.after(cleanupTmp);
test.run();
