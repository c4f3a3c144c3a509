/**
 * Writes the frozen compatibility fixture of the current format version into
 * spec/compat/v<FORMAT_VERSION>/ (see spec/compat/README.md): a small deterministic tree
 * packed by today's code into `store/` (a store directory as pack leaves it), the same store
 * sealed into `store.zip`, and `expected.json`, every path of the tree with its kind, mode,
 * size, SHA-256 and symlink target. Run it once per format version, when the version is new;
 * a fixture already committed is never rewritten (the output must not exist).
 *
 *   npm run build && node dist/scripts/make-compat-fixture.js [out-dir]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chunkerParams } from "../src/chunker/chunker-params.js";
import { sealStore } from "../src/export/seal.js";
import { packTree } from "../src/pack/pack.js";
import { FORMAT_VERSION } from "../src/types.js";
import { describeTree, makeCompatTree } from "../test/helpers/compat-tree.js";

/** Pack settings small enough that one file of about 150 KB spans several super-chunks. */
const PACK = {
  threads: 1,
  superChunkBytes: 64 * 1024,
  chunk: chunkerParams({ avgBytes: 8 * 1024 }),
  order: "path" as const,
};

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? `spec/compat/v${FORMAT_VERSION}`);
  if (fs.existsSync(out)) throw new Error(`${out} exists: a committed fixture is never rewritten`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "superchunk-compat-"));
  try {
    const src = path.join(work, "tree");
    fs.mkdirSync(src);
    makeCompatTree(src);
    fs.mkdirSync(out, { recursive: true });
    await packTree(src, path.join(out, "store"), PACK);
    await sealStore(path.join(out, "store"), path.join(out, "store.zip"));
    const expected = { formatVersion: FORMAT_VERSION, entries: describeTree(src) };
    fs.writeFileSync(path.join(out, "expected.json"), `${JSON.stringify(expected, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
