/**
 * The fuzz's fixture and cases: a small tree holding every kind of entry (files that share
 * sub-blocks, a whole-file duplicate, text, a hard link, symlinks, a FIFO, an empty file
 * and directory, odd modes), packed into a store of small super-chunks and sealed into an
 * archive; the plan that gives case i its kind and Rng; and the preparation of a case: a
 * scratch directory with a damaged copy of the store or archive, an empty destination
 * path, and an `outside` directory with canary files that no command may touch.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { sealStore } from "../../src/export/seal.js";
import { packTree } from "../../src/pack/pack.js";
import { Rng } from "./fuzz-rng.js";
import { ARCHIVE_MUTATIONS, ARCHIVE_MUTATORS, type ArchiveMutation } from "./mutate-archive.js";
import { STORE_MUTATIONS, STORE_MUTATORS, type StoreMutation } from "./mutate-store.js";
import { seededBytes, tmpDir } from "./tree.js";

/** The pristine source tree, its store and the store sealed into an archive. */
export interface FuzzFixture {
  readonly root: string;
  readonly src: string;
  readonly store: string;
  readonly archive: string;
}

/** Small super-chunks, so the store has a dozen of them to swap, copy and delete. */
export const FUZZ_SUPERCHUNK_BYTES = 64 * 1024;

/** Writes the fuzz's source tree below `root` (which must exist). */
export function makeFuzzTree(root: string): void {
  const p = (...parts: string[]) => path.join(root, ...parts);
  for (const d of ["docs/old", "data/deep/er", "empty-dir"])
    fs.mkdirSync(p(d), { recursive: true });
  const words = seededBytes(60_000, 7)
    .toString("base64")
    .match(/.{1,6}/g) as string[];
  const text = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => words[(i * 7919 + seed * 104_729) % words.length]).join(
      " ",
    );
  const base = text(9000, 1);
  for (let i = 0; i < 4; i++)
    fs.writeFileSync(p("docs", `v${i}.txt`), `${base.slice(0, 20_000 * i)}EDIT ${i}${base}`);
  fs.writeFileSync(p("docs", "old", "notes.txt"), text(3000, 5));
  for (let i = 0; i < 6; i++)
    fs.writeFileSync(p("data", `r${i}.bin`), seededBytes(4000 + i * 9000, 20 + i));
  const big = seededBytes(180_000, 99);
  fs.writeFileSync(p("data", "deep", "er", "big.bin"), big);
  fs.writeFileSync(p("data", "big-copy.bin"), big);
  const edited = Buffer.from(big);
  edited.write("an edit in the middle", 90_000);
  fs.writeFileSync(p("data", "big-edit.bin"), edited);
  fs.writeFileSync(p("zeros.bin"), Buffer.concat([seededBytes(30_000, 3), Buffer.alloc(200_000)]));
  fs.writeFileSync(p("empty"), "");
  fs.writeFileSync(p("run.sh"), "#!/bin/sh\necho hi\n");
  fs.chmodSync(p("run.sh"), 0o755);
  fs.writeFileSync(p("private"), "secret\n");
  fs.chmodSync(p("private"), 0o600);
  fs.symlinkSync("docs/v1.txt", p("link-to-v1"));
  fs.symlinkSync("/nonexistent/target", p("dangling"));
  fs.linkSync(p("data", "r1.bin"), p("hardlink-to-r1"));
  spawnSync("mkfifo", [p("fifo")]);
  fs.utimesSync(p("docs", "v0.txt"), 1_600_000_000.25, 1_500_000_000.5);
}

/** Packs the fuzz tree (small super-chunks) and seals the store. */
export async function buildFuzzFixture(): Promise<FuzzFixture> {
  const root = tmpDir("fuzz");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeFuzzTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: FUZZ_SUPERCHUNK_BYTES });
  const archive = path.join(root, "store.zip");
  await sealStore(store, archive);
  return { root, src, store, archive };
}

/** A kind of damage and what it damages. */
export type FuzzKind =
  | { readonly on: "store"; readonly kind: StoreMutation }
  | { readonly on: "archive"; readonly kind: ArchiveMutation };

/** Every kind, in the order the plan takes them round-robin. */
export const ALL_KINDS: readonly FuzzKind[] = [
  ...STORE_MUTATIONS.map((kind) => ({ on: "store" as const, kind })),
  ...ARCHIVE_MUTATIONS.map((kind) => ({ on: "archive" as const, kind })),
];

/** The label of a kind in tables: "store sc-swap", "archive zip-truncate". */
export function kindLabel(k: FuzzKind): string {
  return `${k.on} ${k.kind}`;
}

/** One prepared case: its damaged copy, where to extract, the canaries. */
export interface FuzzCase {
  readonly index: number;
  readonly kind: FuzzKind;
  /** what the mutator did */
  readonly what: string;
  readonly scratch: string;
  /** the damaged store directory or archive */
  readonly target: string;
  /** the extraction destination (not created) */
  readonly dest: string;
  /** the directory hostile symlinks point at, holding canary files */
  readonly outside: string;
}

/**
 * Prepares case `index` of the plan (kinds round-robin) under `seed`, in `dir/case-<index>`:
 * copies the store or archive and damages it.
 */
export function prepareCase(
  fx: FuzzFixture,
  kinds: readonly FuzzKind[],
  seed: number,
  index: number,
  dir: string,
): FuzzCase {
  const kind = kinds[index % kinds.length] as FuzzKind;
  const scratch = path.join(dir, `case-${index}`);
  const outside = path.join(scratch, "outside");
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, "evil.sh"), "#!/bin/sh\necho canary\n");
  fs.writeFileSync(path.join(outside, "keep.txt"), "nothing may touch this\n");
  const target = path.join(scratch, kind.on === "store" ? "store" : "store.zip");
  fs.cpSync(kind.on === "store" ? fx.store : fx.archive, target, { recursive: true });
  const ctx = { target, scratch, outside, rng: Rng.forCase(seed, index) };
  const what =
    kind.on === "store" ? STORE_MUTATORS[kind.kind](ctx) : ARCHIVE_MUTATORS[kind.kind](ctx);
  return { index, kind, what, scratch, target, dest: path.join(scratch, "out"), outside };
}
