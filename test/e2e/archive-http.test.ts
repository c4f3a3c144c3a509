/**
 * Archives over HTTP: a real nginx serving a sealed archive, and small node servers that
 * misbehave (ignore Range, stall, fail with 503 a few times).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as assert from "uvu/assert";
import { HttpByteSource } from "../../src/blobstore/http-byte-source.js";
import { ZipBlobStore } from "../../src/blobstore/zip-blob-store.js";
import { mountCommand } from "../../src/cli/cmd-mount.js";
import { extractTree } from "../../src/export/extract.js";
import { openStoreReaderAt } from "../../src/location/store-view.js";
import { InodeKind } from "../../src/types.js";
import { type SealedFixture, sealedFixture } from "../helpers/archive-fixture.js";
import { captureIO, rejectsWith } from "../helpers/cli-capture.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, tmpDir } from "../helpers/tree.js";

const { test, t, skip, nginx, startNginx, teardown } = suiteNeeding("archive-http", ["nginx"]);

let fx: SealedFixture;
const servers: http.Server[] = [];

test.before(async () => {
  fx = await sealedFixture();
  if (!skip) await startNginx(`${fx.root}/www`);
});
teardown(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A node server on 127.0.0.1; resolves with its base URL. */
function serve(handler: http.RequestListener): Promise<string> {
  const srv = http.createServer(handler);
  servers.push(srv);
  return new Promise((resolve) =>
    srv.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/tree.zip`);
    }),
  );
}

/** Answers a `Range: bytes=a-b` or `bytes=-n` request for `body` the way nginx does. */
function answerRange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (!m) {
    res.writeHead(200, { "Content-Length": body.length }).end(body);
    return;
  }
  const start = m[1] === "" ? Math.max(0, body.length - Number(m[2])) : Number(m[1]);
  const end =
    m[1] === "" || m[2] === "" ? body.length - 1 : Math.min(Number(m[2]), body.length - 1);
  res.writeHead(206, {
    "Content-Range": `bytes ${start}-${end}/${body.length}`,
    "Content-Length": end - start + 1,
    "Accept-Ranges": "bytes",
  });
  res.end(body.subarray(start, end + 1));
}

t("archive-http - the archive read over nginx gives the same files as the source", async () => {
  const r = await openStoreReaderAt(nginx!.url("tree.zip"));
  try {
    const opened = r.transferStats()!;
    assert.is(opened.requests, 1, "one request opens a small archive (tail holds db + directory)");
    for (const e of r.meta.walk()) {
      const attr = r.getattr(e.ino)!;
      if (attr.kind !== InodeKind.file) continue;
      const want = fs.readFileSync(Buffer.concat([Buffer.from(`${fx.src}/`), e.path]));
      const got = await r.read(e.ino, 0, attr.size + 1);
      assert.ok(got.equals(want), e.path.toString());
    }
  } finally {
    await r.close();
  }
});

t("archive-http - extract from a URL equals the source", async () => {
  const out = `${tmpDir("http-out")}/out`;
  await extractTree(nginx!.url("tree.zip"), out);
  assert.equal(compareTrees(fx.src, out), []);
});

t("archive-http - reading one small file fetches a small part of the archive", async () => {
  const size = fs.statSync(fx.archive).size;
  const sentBefore = nginx!.bytesSent();
  const r = await openStoreReaderAt(nginx!.url("tree.zip"));
  try {
    const ino = r.lookupPath("hello.txt")!;
    assert.is((await r.read(ino, 0, 4096)).toString(), "hello, superchunk\n");
    const fetched = r.transferStats()!.bytesFetched;
    const sent = nginx!.bytesSent() - sentBefore;
    assert.is(fetched, sent, "what the client counted is what nginx logged");
    assert.ok(fetched < size / 4, `fetched ${fetched} of ${size}`);
  } finally {
    await r.close();
  }
});

t("archive-http - a missing URL is E_HTTP naming it (no retries on 404)", async () => {
  const url = nginx!.url("nope.zip");
  const err = await rejectsWith(openStoreReaderAt(url), "E_HTTP");
  assert.ok(err.message.includes(url), err.message);
  assert.ok(err.message.includes("404"), err.message);
});

test("archive-http - a server that ignores Range is E_HTTP_NO_RANGE", async () => {
  const body = fs.readFileSync(fx.archive);
  const url = await serve((_req, res) => {
    res.writeHead(200, { "Content-Length": body.length });
    res.end(body);
  });
  await rejectsWith(openStoreReaderAt(url), "E_HTTP_NO_RANGE");
});

test("archive-http - a stalled server is E_TIMEOUT after the request timeout", async () => {
  let seen = 0;
  const url = await serve(() => {
    seen++; // never answers
  });
  const src = new HttpByteSource(url, { timeoutMs: 200, retries: 1, backoffMs: 10 });
  await rejectsWith(ZipBlobStore.open(src), "E_TIMEOUT");
  assert.is(seen, 2, "tried once, retried once");
});

test("archive-http - mount --http-timeout/--http-retries bound the wait on a stalled server", async () => {
  let seen = 0;
  const url = await serve(() => {
    seen++; // never answers
  });
  const { io } = captureIO();
  const mnt = tmpDir("http-stall-mnt");
  const args = [url, mnt, "--foreground", "--http-timeout", "1", "--http-retries", "0"];
  await rejectsWith(mountCommand.run(args, io), "E_TIMEOUT");
  assert.is(seen, 1, "no retry with --http-retries 0");
});

test("archive-http - a flaky server (503 three times) succeeds through retries", async () => {
  const body = fs.readFileSync(fx.archive);
  let n = 0;
  const url = await serve((req, res) => {
    if (++n <= 3) res.writeHead(503).end("busy");
    else answerRange(req, res, body);
  });
  const r = await openStoreReaderAt(url, { http: { backoffMs: 10, retries: 4 } });
  try {
    const ino = r.lookupPath("a/small.bin")!;
    const got = await r.read(ino, 0, 10_000);
    assert.ok(got.equals(fs.readFileSync(`${fx.src}/a/small.bin`)));
    assert.is(r.transferStats()!.retries, 3);
  } finally {
    await r.close();
  }
  let m = 0;
  const down = await serve((_req, res) => {
    m++;
    res.writeHead(503).end();
  });
  const err = await rejectsWith(
    openStoreReaderAt(down, { http: { backoffMs: 5, retries: 2 } }),
    "E_HTTP",
  );
  assert.ok(err.message.includes("503"), err.message);
  assert.is(m, 3, "first try and two retries");
});

test.run();
