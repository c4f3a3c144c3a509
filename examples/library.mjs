// superchunk as a library: packs a small temporary tree, lists it, reads a file through
// openStore, runs stats and fsck, extracts, and compares the result with the source.
// Exits 0 when everything matches, 1 on any mismatch or error.
//
//   node examples/library.mjs        (in a project where "superchunk" is installed)
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { extract, fsck, ls, openStore, pack, stats } from "superchunk";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "superchunk-example-"));
const problems = [];
const expect = (ok, what) => {
  if (!ok) problems.push(what);
};

try {
  // a small tree: text, a repeated binary block (deduplicated), a subdirectory, a symlink
  const src = path.join(work, "src");
  fs.mkdirSync(path.join(src, "docs"), { recursive: true });
  const block = Buffer.alloc(256 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7919) % 251;
  fs.writeFileSync(path.join(src, "readme.txt"), "hello from the library example\n");
  fs.writeFileSync(path.join(src, "docs", "a.bin"), block);
  fs.writeFileSync(path.join(src, "docs", "b.bin"), Buffer.concat([block, block]));
  fs.symlinkSync("readme.txt", path.join(src, "latest"));

  const store = path.join(work, "example.sc");
  const phases = new Set();
  const packed = await pack(src, store, {
    codec: "zstd",
    level: 3,
    onProgress: (p) => phases.add(p.phase),
  });
  console.log(
    `packed ${packed.files} files, ${packed.logicalBytes} bytes into ${packed.storedBytes} (phases: ${[...phases].join(", ")})`,
  );
  expect(packed.files === 3, `pack counted ${packed.files} files, expected 3`);

  const entries = await ls(store, "", { recursive: true });
  for (const e of entries)
    console.log(
      `  ${e.kind.padEnd(7)} ${String(e.size).padStart(7)}  ${e.path}${e.target ? ` -> ${e.target}` : ""}`,
    );
  const listed = entries
    .map((e) => e.path)
    .sort()
    .join(",");
  expect(listed === "docs,docs/a.bin,docs/b.bin,latest,readme.txt", `ls listed ${listed}`);

  const handle = await openStore(store);
  try {
    const text = (await handle.readFile("readme.txt")).toString();
    expect(text === "hello from the library example\n", `readFile gave ${JSON.stringify(text)}`);
    const b = await handle.stat("docs/b.bin");
    expect(
      b.kind === "file" && b.size === 2 * block.length,
      `stat of docs/b.bin: ${b.kind} ${b.size}`,
    );
    const sha = createHash("sha256");
    for await (const chunk of handle.createReadStream("docs/b.bin")) sha.update(chunk);
    expect(
      sha.digest("hex") === digest(path.join(src, "docs", "b.bin")),
      "stream of docs/b.bin differs",
    );
  } finally {
    await handle.close();
  }

  const s = await stats(store);
  console.log(
    `stats: ${s.files} files, dedup ${s.dedupRatio.toFixed(2)}x, compression ${s.compressionRatio.toFixed(2)}x`,
  );
  expect(s.dedupRatio > 1, `dedup ratio ${s.dedupRatio}, expected above 1`);

  const report = await fsck(store);
  console.log(`fsck: ${report.clean ? "clean" : `${report.errors} errors`}`);
  expect(report.clean, `fsck found ${report.errors} errors`);

  const out = path.join(work, "out");
  const restored = await extract(store, out);
  console.log(`extracted ${restored.files} files, ${restored.bytes} bytes`);
  for (const rel of ["readme.txt", "docs/a.bin", "docs/b.bin"]) {
    expect(
      digest(path.join(src, rel)) === digest(path.join(out, rel)),
      `${rel} differs after extract`,
    );
  }
  expect(
    fs.readlinkSync(path.join(out, "latest")) === "readme.txt",
    "symlink differs after extract",
  );
} catch (err) {
  problems.push(`${err.name}: ${err.message}${err.code ? ` [${err.code}]` : ""}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const p of problems) console.error(`mismatch: ${p}`);
  process.exit(1);
}
console.log("ok");

function digest(file) {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
