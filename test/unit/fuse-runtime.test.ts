/**
 * What a mount needs from the machine: fusermount3 for a user other than root, found on the
 * search path; its absence is one E_NO_FUSE error naming the package to install.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { checkFusermount, findProgram } from "../../src/fuse/fuse-runtime.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

test("fuse-runtime - a user without fusermount3 is told to install fuse3", async () => {
  const empty = tmpDir("path");
  let caught: unknown;
  await checkFusermount({ path: empty, uid: 1000 }).catch((e) => (caught = e));
  assert.ok(isCode(caught, "E_NO_FUSE"), String(caught));
  assert.match((caught as Error).message, "install it with 'apt-get install fuse3'");
  // root mounts without the helper
  await checkFusermount({ path: empty, uid: 0 });
});

test("fuse-runtime - fusermount3 on the search path is found, a non-executable one is not", async () => {
  const dir = tmpDir("path");
  const file = path.join(dir, "fusermount3");
  fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o644 });
  assert.is(await findProgram("fusermount3", `/nonexistent${path.delimiter}${dir}`), undefined);
  fs.chmodSync(file, 0o755);
  assert.is(await findProgram("fusermount3", `/nonexistent${path.delimiter}${dir}`), file);
  await checkFusermount({ path: dir, uid: 1000 });
});

test.run();
