/**
 * Mutators for the fuzz: each damages a copy of a store directory in one way, chosen and
 * placed by a seeded Rng (same seed, same damage), and answers a one-line description of
 * what it did, so a failing case can be read and replayed. File damage is here (super-chunk
 * files and the database file, bytes and whole files); edits of database rows are in
 * mutate-rows.ts; damage to a sealed archive is in mutate-archive.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { decodePackedDatabase, encodePackedDatabase } from "../../src/store/packed-db.js";
import type { Rng } from "./fuzz-rng.js";
import { ROW_MUTATORS, type RowMutation } from "./mutate-rows.js";

/** What a mutator gets. */
export interface MutationContext {
  /** the store directory (or, for archive mutators, the archive file) to damage in place */
  readonly target: string;
  /** a directory of the case for temporary files (not inside the store) */
  readonly scratch: string;
  /** a directory outside every extraction destination: what hostile symlinks point at */
  readonly outside: string;
  readonly rng: Rng;
}

/** A mutator: damages `ctx.target`, answers what it did. */
export type Mutator = (ctx: MutationContext) => string;

const DB_PLAIN = "superchunk.db";
const DB_PACKED = "superchunk.db.zst";

/** The super-chunk files of a store directory (paths relative to it), sorted. */
export function superChunkFiles(store: string): string[] {
  const out: string[] = [];
  const sc = path.join(store, "sc");
  for (const sub of fs.readdirSync(sc).sort()) {
    for (const f of fs.readdirSync(path.join(sc, sub)).sort()) out.push(`sc/${sub}/${f}`);
  }
  return out;
}

/** The database file a reader opens: the plain one when present, else the packed one. */
function databaseFile(store: string): string {
  return fs.existsSync(path.join(store, DB_PLAIN)) ? DB_PLAIN : DB_PACKED;
}

function flipBit(file: string, rng: Rng): string {
  const b = fs.readFileSync(file);
  const at = rng.int(b.length);
  const bit = rng.int(8);
  b[at] = (b[at] as number) ^ (1 << bit);
  fs.writeFileSync(file, b);
  return `bit ${bit} of byte ${at}/${b.length}`;
}

function truncate(file: string, rng: Rng): string {
  const size = fs.statSync(file).size;
  const to = rng.int(size);
  fs.truncateSync(file, to);
  return `to ${to}/${size} bytes`;
}

function zeroRange(file: string, rng: Rng): string {
  const b = fs.readFileSync(file);
  const len = Math.min(b.length, rng.range(1, 4096));
  const at = rng.int(b.length - len + 1);
  // zeroing bytes that are already zero damages nothing; make sure something changes
  if (b.subarray(at, at + len).every((x) => x === 0)) b[at] = 0xff;
  b.fill(0, at, at + len);
  fs.writeFileSync(file, b);
  return `bytes [${at}, ${at + len}) of ${b.length} zeroed`;
}

function oneSuperChunk(ctx: MutationContext): string {
  return ctx.rng.pick(superChunkFiles(ctx.target));
}

/**
 * Runs `edit` on the store's SQLite image (unpacked from superchunk.db.zst when packed)
 * and writes the image back, either packed again with fresh checksums (as a hostile
 * writer would) or as a plain superchunk.db (as a store opened for writing keeps it), by
 * the coin. Answers edit's description and the form written.
 */
export function editDatabaseImage(ctx: MutationContext, edit: (image: string) => string): string {
  const store = ctx.target;
  const plain = path.join(store, DB_PLAIN);
  const packed = path.join(store, DB_PACKED);
  const image = path.join(ctx.scratch, "edit.db");
  const raw = fs.existsSync(plain)
    ? fs.readFileSync(plain)
    : decodePackedDatabase(fs.readFileSync(packed), packed);
  fs.writeFileSync(image, raw);
  const what = edit(image);
  for (const side of ["-wal", "-shm"]) fs.rmSync(`${image}${side}`, { force: true });
  const edited = fs.readFileSync(image);
  fs.rmSync(image);
  for (const f of [plain, `${plain}-wal`, `${plain}-shm`, packed]) fs.rmSync(f, { force: true });
  if (ctx.rng.coin()) {
    fs.writeFileSync(plain, edited);
    return `${what} (plain ${DB_PLAIN})`;
  }
  fs.writeFileSync(packed, encodePackedDatabase(edited, 3));
  return `${what} (repacked ${DB_PACKED})`;
}

/** Damage to the bytes of a file of the SQLite image itself (not the packed container). */
function imageDamage(damage: (file: string, rng: Rng) => string): Mutator {
  return (ctx) => editDatabaseImage(ctx, (image) => `SQLite image: ${damage(image, ctx.rng)}`);
}

/** Mutators of store directories by kind: file damage here, row edits from mutate-rows.ts. */
export const FILE_MUTATORS = {
  "sc-bit-flip": (ctx) => {
    const f = oneSuperChunk(ctx);
    return `${f}: ${flipBit(path.join(ctx.target, f), ctx.rng)}`;
  },
  "sc-truncate": (ctx) => {
    const f = oneSuperChunk(ctx);
    return `${f}: truncated ${truncate(path.join(ctx.target, f), ctx.rng)}`;
  },
  "sc-zero-range": (ctx) => {
    const f = oneSuperChunk(ctx);
    return `${f}: ${zeroRange(path.join(ctx.target, f), ctx.rng)}`;
  },
  "sc-delete": (ctx) => {
    const f = oneSuperChunk(ctx);
    fs.rmSync(path.join(ctx.target, f));
    return `${f} deleted`;
  },
  "sc-swap": (ctx) => {
    const [a, b] = ctx.rng.pickTwo(superChunkFiles(ctx.target));
    const [pa, pb] = [path.join(ctx.target, a), path.join(ctx.target, b)];
    const tmp = `${pa}.swap`;
    fs.renameSync(pa, tmp);
    fs.renameSync(pb, pa);
    fs.renameSync(tmp, pb);
    return `${a} and ${b} swapped`;
  },
  "sc-copy-over": (ctx) => {
    const [a, b] = ctx.rng.pickTwo(superChunkFiles(ctx.target));
    fs.copyFileSync(path.join(ctx.target, a), path.join(ctx.target, b));
    return `${a} copied over ${b}`;
  },
  "sc-append-garbage": (ctx) => {
    const f = oneSuperChunk(ctx);
    const n = ctx.rng.range(1, 1000);
    fs.appendFileSync(path.join(ctx.target, f), ctx.rng.bytes(n));
    return `${f}: ${n} random bytes appended`;
  },
  "db-bit-flip": (ctx) => {
    const f = databaseFile(ctx.target);
    return `${f}: ${flipBit(path.join(ctx.target, f), ctx.rng)}`;
  },
  "db-truncate": (ctx) => {
    const f = databaseFile(ctx.target);
    return `${f}: truncated ${truncate(path.join(ctx.target, f), ctx.rng)}`;
  },
  "db-zero-range": (ctx) => {
    const f = databaseFile(ctx.target);
    return `${f}: ${zeroRange(path.join(ctx.target, f), ctx.rng)}`;
  },
  "db-image-bit-flip": imageDamage(flipBit),
  "db-image-truncate": imageDamage((f, rng) => `truncated ${truncate(f, rng)}`),
  "db-image-zero-range": imageDamage(zeroRange),
} satisfies Record<string, Mutator>;

/** A kind of damage to a store directory. */
export type StoreMutation = keyof typeof FILE_MUTATORS | RowMutation;

/** Every mutator of a store directory, by kind. */
export const STORE_MUTATORS: Record<StoreMutation, Mutator> = {
  ...FILE_MUTATORS,
  ...(Object.fromEntries(
    Object.entries(ROW_MUTATORS).map(([k, m]) => [
      k,
      (ctx: MutationContext) => editDatabaseImage(ctx, (img) => m(img, ctx.rng, ctx.outside)),
    ]),
  ) as Record<RowMutation, Mutator>),
};

/** The kinds of store damage, in a fixed order (the fuzz takes them round-robin). */
export const STORE_MUTATIONS = Object.keys(STORE_MUTATORS) as StoreMutation[];
