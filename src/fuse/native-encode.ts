/**
 * Encoding of handler answers into the flat forms native/reply.c reads: Float64Arrays laid out
 * as ST_* / SV_* in native/sfuse.h, NUL-separated xattr name lists, open flag bits. Answers are
 * consumed synchronously by reply(), so one scratch array per kind is reused.
 */
import type {
  DirEntry,
  FuseTime,
  FuseTimeArg,
  NativeStat,
  NativeStatfs,
  OpenAnswer,
  StatTime,
} from "./native-types.js";

/** Fields per stat in the Float64Array (ST_FIELDS). */
export const STAT_FIELDS = 15;
const STATFS_FIELDS = 11;
const NS_PER_S = 1_000_000_000n;
const statScratch = new Float64Array(STAT_FIELDS);
const statfsScratch = new Float64Array(STATFS_FIELDS);

/** {sec, nsec} of a bigint nanosecond count (floor division, so negative times work). */
export function timeFromNs(ns: bigint): FuseTime {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    nsec += NS_PER_S;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Nanoseconds since the epoch of a FuseTime. */
export function timeToNs(t: FuseTime): bigint {
  return BigInt(t.sec) * NS_PER_S + BigInt(t.nsec);
}

function putTime(out: Float64Array, at: number, t: StatTime): void {
  const v = typeof t === "bigint" ? timeFromNs(t) : t;
  out[at] = v.sec;
  out[at + 1] = v.nsec;
}

/** Writes `st` into `out` at element `at` (ST_* layout). */
export function putStat(out: Float64Array, at: number, st: NativeStat): void {
  const size = Number(st.size ?? 0);
  out[at] = Number(st.ino);
  out[at + 1] = st.mode;
  out[at + 2] = st.nlink ?? 1;
  out[at + 3] = st.uid ?? 0;
  out[at + 4] = st.gid ?? 0;
  out[at + 5] = st.rdev ?? 0;
  out[at + 6] = size;
  out[at + 7] = st.blocks ?? Math.ceil(size / 512);
  out[at + 8] = st.blksize ?? 4096;
  putTime(out, at + 9, st.atime);
  putTime(out, at + 11, st.mtime);
  putTime(out, at + 13, st.ctime);
}

/** The scratch Float64Array holding `st`, valid until the next call. */
export function encodeStat(st: NativeStat): Float64Array {
  putStat(statScratch, 0, st);
  return statScratch;
}

/** The scratch Float64Array holding `s` (SV_* layout), valid until the next call. */
export function encodeStatfs(s: NativeStatfs): Float64Array {
  const o = statfsScratch;
  o[0] = s.bsize ?? 4096;
  o[1] = s.frsize ?? s.bsize ?? 4096;
  o[2] = s.blocks ?? 0;
  o[3] = s.bfree ?? 0;
  o[4] = s.bavail ?? 0;
  o[5] = s.files ?? 0;
  o[6] = s.ffree ?? 0;
  o[7] = s.favail ?? 0;
  o[8] = s.fsid ?? 0;
  o[9] = s.flag ?? 0;
  o[10] = s.namemax ?? 255;
  return o;
}

/** readdir answer: names, plus stats when every entry has one (else the kernel learns later). */
export function encodeDir<P>(entries: DirEntry<P>[]): [unknown[], Float64Array | undefined] {
  const names: unknown[] = new Array(entries.length);
  let withStat = entries.length > 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (typeof e === "object" && e !== null && !Buffer.isBuffer(e) && "name" in e) {
      names[i] = e.name;
      if (!e.stat) withStat = false;
    } else {
      names[i] = e;
      withStat = false;
    }
  }
  if (!withStat) return [names, undefined];
  const stats = new Float64Array(entries.length * STAT_FIELDS);
  entries.forEach((e, i) => {
    putStat(stats, i * STAT_FIELDS, (e as { stat: NativeStat }).stat);
  });
  return [names, stats];
}

/** listxattr answer: each name NUL-terminated. */
export function encodeXattrList(v: string[] | Buffer): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return Buffer.concat(v.map((n) => Buffer.from(`${n}\0`)));
}

/** open/create/opendir answer: [fh, flag bits] (OPEN_* of native/sfuse.h). */
export function encodeOpen(v: OpenAnswer | undefined): [number, number | Float64Array] {
  if (v === undefined) return [0, 0];
  if (typeof v === "number") return [v, 0];
  const bits =
    (v.directIo ? 1 : 0) | (v.keepCache ? 2 : 0) | (v.nonseekable ? 4 : 0) | (v.cacheDir ? 8 : 0);
  if (v.stat === undefined) return [v.fh, bits];
  // a create's answer: the bits, then the new file's stat (the binding answers the getattr
  // libfuse makes right after it from these)
  const withStat = new Float64Array(1 + STAT_FIELDS);
  withStat[0] = bits;
  putStat(withStat, 1, v.stat);
  return [v.fh, withStat];
}

/** A utimens argument from the binding's (sec, nsec) pair. */
export function decodeTimeArg(
  sec: number,
  nsec: number,
  utimeNow: number,
  utimeOmit: number,
): FuseTimeArg {
  if (nsec === utimeNow) return "now";
  if (nsec === utimeOmit) return "omit";
  return { sec, nsec };
}
