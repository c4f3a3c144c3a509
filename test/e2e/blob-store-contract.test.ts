/**
 * The BlobStore contract (test/helpers/blob-store-contract.ts) on the remote backends: a zip
 * archive read over HTTP from a real nginx (read-only: the read half), and S3 objects in the
 * private Ceph cluster's RADOS Gateway. Each suite is skipped with a message when its service
 * is missing.
 */
import * as path from "node:path";
import { HttpByteSource } from "../../src/blobstore/http-byte-source.js";
import { S3BlobStore } from "../../src/blobstore/s3-blob-store.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { writeZipArchive } from "../../src/zip/zip-writer.js";
import { blobStoreContract, zipOf } from "../helpers/blob-store-contract.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";

const http = suiteNeeding("blob-store http", ["nginx"]);
let www = "";
let archives = 0;
http.test.before(async () => {
  if (http.skip) return;
  www = tmpDir("contract-www");
  await http.startNginx(www);
});
blobStoreContract(
  "blob-store http",
  async (blobs) => {
    const name = `store-${++archives}.zip`;
    await writeZipArchive(path.join(www, name), zipOf(blobs));
    return ZipBlobStore.open(new HttpByteSource(http.nginx.url(name)));
  },
  { readOnly: true, test: http.t },
);
http.test.run();

const s3 = suiteNeeding("blob-store s3", ["ceph"]);
let prefixes = 0;
blobStoreContract(
  "blob-store s3",
  async (blobs) => {
    const store = S3BlobStore.open(`s3://superchunk-contract/store-${++prefixes}`);
    await store.ensureBucket();
    for (const [key, data] of blobs) await store.put(key, data);
    return store;
  },
  { reopen: async (s) => S3BlobStore.open(s.location), test: s3.t },
);
s3.test.run();
