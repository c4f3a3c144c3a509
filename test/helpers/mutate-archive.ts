/**
 * Mutators of a sealed archive (a zip, spec/FORMAT.md "Archive") for the fuzz: bit flips
 * and truncation of the file, two super-chunk names of the same length swapped in the
 * central directory (each entry keeps its data, CRC and sizes: only the names lie), and a
 * damaged local header. Each answers a one-line description of what it did.
 */
import * as fs from "node:fs";
import type { Mutator } from "./mutate-store.js";

/** One central directory record, as far as the mutators need it. */
interface CentralEntry {
  /** offset of the record in the file */
  readonly at: number;
  /** offset and length of its name in the file */
  readonly nameAt: number;
  readonly name: string;
  /** offset of the entry's local header */
  readonly local: number;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_FIXED_BYTES = 30;

/** The central directory of a zip without zip64 records (what seal writes for small stores). */
export function centralDirectory(zip: Buffer): CentralEntry[] {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== EOCD_SIG) eocd--;
  if (eocd < 0) throw new Error("fuzz: no end of central directory record");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw new Error("fuzz: zip64 archives not handled");
  const out: CentralEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_SIG) throw new Error(`fuzz: bad central record at ${at}`);
    const n = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const nameAt = at + 46;
    const name = zip.subarray(nameAt, nameAt + n).toString("utf8");
    out.push({ at, nameAt, name, local: zip.readUInt32LE(at + 42) });
    at = nameAt + n + extra + comment;
  }
  return out;
}

/** Mutators of an archive file by kind. */
export const ARCHIVE_MUTATORS = {
  "zip-bit-flip": (ctx) => {
    const b = fs.readFileSync(ctx.target);
    const at = ctx.rng.int(b.length);
    const bit = ctx.rng.int(8);
    b[at] = (b[at] as number) ^ (1 << bit);
    fs.writeFileSync(ctx.target, b);
    return `bit ${bit} of byte ${at}/${b.length}`;
  },
  "zip-truncate": (ctx) => {
    const size = fs.statSync(ctx.target).size;
    const to = ctx.rng.int(size);
    fs.truncateSync(ctx.target, to);
    return `truncated to ${to}/${size} bytes`;
  },
  "zip-cd-names-swapped": (ctx) => {
    const b = fs.readFileSync(ctx.target);
    const all = centralDirectory(b).filter((e) => e.name.startsWith("sc/"));
    // names of one length swap in place: only names another name shares its length with
    const sc = all.filter((e) => all.some((o) => o !== e && o.name.length === e.name.length));
    const first = ctx.rng.pick(sc);
    const [x, y] = [
      first,
      ctx.rng.pick(sc.filter((e) => e !== first && e.name.length === first.name.length)),
    ];
    const n = x.name.length;
    const nx = Buffer.from(b.subarray(x.nameAt, x.nameAt + n));
    b.copy(b, x.nameAt, y.nameAt, y.nameAt + n);
    nx.copy(b, y.nameAt);
    fs.writeFileSync(ctx.target, b);
    return `central directory names ${x.name} and ${y.name} swapped`;
  },
  "zip-local-header": (ctx) => {
    const b = fs.readFileSync(ctx.target);
    const e = ctx.rng.pick(centralDirectory(b));
    const n = b.readUInt16LE(e.local + 26);
    const at = e.local + ctx.rng.int(LOCAL_FIXED_BYTES + n);
    const was = b[at] as number;
    b[at] = was ^ ctx.rng.range(1, 255);
    fs.writeFileSync(ctx.target, b);
    return `local header of ${e.name}: byte +${at - e.local} ${was} -> ${b[at]}`;
  },
} satisfies Record<string, Mutator>;

/** A kind of damage to an archive. */
export type ArchiveMutation = keyof typeof ARCHIVE_MUTATORS;

/** The kinds of archive damage, in a fixed order. */
export const ARCHIVE_MUTATIONS = Object.keys(ARCHIVE_MUTATORS) as ArchiveMutation[];
