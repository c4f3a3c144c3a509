/**
 * The per-op glue of the native binding: how each op's raw arguments (op, id, caller, path,
 * a..e as native/dispatch.c sends them) become a handler call, and how the handler's answer
 * becomes reply(result, payload, extra). Errors become negative errno through `errnoOf`.
 */
import { OP, OP_EXIT, OP_INVALIDATED, type OpName } from "./native-addon.js";
import {
  decodeTimeArg,
  encodeDir,
  encodeOpen,
  encodeStat,
  encodeStatfs,
  encodeXattrList,
} from "./native-encode.js";
import type {
  DirEntry,
  FuseCaller,
  NativeFuseOps,
  NativeStat,
  NativeStatfs,
  OpenAnswer,
} from "./native-types.js";
import type { OpStats } from "./op-stats.js";

type Ops = NativeFuseOps<Buffer | string>;
type P = Buffer | string;
type Reply = [number, unknown?, unknown?];
type Run = (h: Ops, c: FuseCaller, p: P, a: unknown, b: unknown, d: unknown, e: unknown) => unknown;
interface OpDef {
  run: Run;
  /** answer → reply arguments; default: nothing to answer (a negative number is an errno) */
  enc?(v: unknown): Reply;
}

const n = (x: unknown) => x as number;
const done = (v: unknown): Reply => [typeof v === "number" && v < 0 ? v : 0];
const count = (v: unknown): Reply => [n(v)];
const open = (v: unknown): Reply => [0, ...encodeOpen(v as OpenAnswer | undefined)];
/** a change's answer: nothing, an errno, or the attributes after it */
const changed = (v: unknown): Reply =>
  typeof v === "object" && v !== null ? [0, encodeStat(v as NativeStat)] : done(v);

/** Set once per process from the addon: the UTIME_NOW / UTIME_OMIT nanosecond markers. */
export const utimeMarks = { now: -1, omit: -1 };

const TABLE: Record<OpName, OpDef> = {
  init: {
    run: (h, _c, _p, a, b, d, e) =>
      h.init?.({ protoMajor: n(a), protoMinor: n(b), maxWrite: n(d), maxReadahead: n(e) }),
  },
  destroy: { run: (h) => h.destroy?.() },
  getattr: { run: (h, c, p) => h.getattr!(p, c), enc: (v) => [0, encodeStat(v as NativeStat)] },
  fgetattr: {
    run: (h, c, p, a) => h.fgetattr!(p, n(a), c),
    enc: (v) => [0, encodeStat(v as NativeStat)],
  },
  readlink: { run: (h, c, p) => h.readlink!(p, c), enc: (v) => [0, v] },
  mknod: { run: (h, c, p, a, b) => h.mknod!(p, n(a), n(b), c) },
  mkdir: { run: (h, c, p, a) => h.mkdir!(p, n(a), c) },
  unlink: { run: (h, c, p) => h.unlink!(p, c) },
  rmdir: { run: (h, c, p) => h.rmdir!(p, c) },
  symlink: { run: (h, c, p, a) => h.symlink!(p, a as P, c) },
  rename: { run: (h, c, p, a, b) => h.rename!(p, a as P, n(b), c) },
  link: { run: (h, c, p, a) => h.link!(p, a as P, c) },
  chmod: { run: (h, c, p, a) => h.chmod!(p, n(a), c), enc: changed },
  chown: { run: (h, c, p, a, b) => h.chown!(p, n(a), n(b), c), enc: changed },
  truncate: { run: (h, c, p, a) => h.truncate!(p, n(a), c), enc: changed },
  ftruncate: { run: (h, c, p, a, b) => h.ftruncate!(p, n(a), n(b), c), enc: changed },
  open: { run: (h, c, p, a) => h.open!(p, n(a), c), enc: open },
  create: { run: (h, c, p, a, b) => h.create!(p, n(a), n(b), c), enc: open },
  read: { run: (h, c, p, a, b, d) => h.read!(p, n(a), b as Buffer, n(d), c), enc: count },
  write: { run: (h, c, p, a, b, d) => h.write!(p, n(a), b as Buffer, n(d), c), enc: count },
  statfs: { run: (h, c, p) => h.statfs!(p, c), enc: (v) => [0, encodeStatfs(v as NativeStatfs)] },
  flush: { run: (h, c, p, a) => h.flush!(p, n(a), c) },
  release: { run: (h, c, p, a, b) => h.release!(p, n(a), n(b), c) },
  fsync: { run: (h, c, p, a, b) => h.fsync!(p, n(a) !== 0, n(b), c) },
  opendir: { run: (h, c, p, a) => h.opendir!(p, n(a), c), enc: open },
  readdir: {
    run: (h, c, p, a) => h.readdir!(p, n(a), c),
    enc: (v) => [0, ...encodeDir(v as DirEntry<P>[])],
  },
  releasedir: { run: (h, c, p, a) => h.releasedir!(p, n(a), c) },
  fsyncdir: { run: (h, c, p, a, b) => h.fsyncdir!(p, n(a) !== 0, n(b), c) },
  setxattr: { run: (h, c, p, a, b, d) => h.setxattr!(p, a as string, b as Buffer, n(d), c) },
  getxattr: {
    run: (h, c, p, a) => h.getxattr!(p, a as string, c),
    enc: (v) => [0, typeof v === "string" ? Buffer.from(v) : v],
  },
  listxattr: {
    run: (h, c, p) => h.listxattr!(p, c),
    enc: (v) => [0, encodeXattrList(v as string[] | Buffer)],
  },
  removexattr: { run: (h, c, p, a) => h.removexattr!(p, a as string, c) },
  access: { run: (h, c, p, a) => h.access!(p, n(a), c) },
  utimens: {
    run: (h, c, p, a, b, d, e) => {
      const { now, omit } = utimeMarks;
      return h.utimens!(
        p,
        decodeTimeArg(n(a), n(b), now, omit),
        decodeTimeArg(n(d), n(e), now, omit),
        c,
      );
    },
    enc: changed,
  },
  fallocate: { run: (h, c, p, a, b, d, e) => h.fallocate!(p, n(a), n(b), n(d), n(e), c) },
};

const BY_CODE: (OpName | undefined)[] = [];
for (const [name, code] of Object.entries(OP)) BY_CODE[code] = name as OpName;

/** Op codes of the handlers `ops` implements (init/destroy are always served). */
export function wantedOps(ops: object): number[] {
  const r = ops as Record<string, unknown>;
  return Object.entries(OP)
    .filter(([name]) => typeof r[name] === "function")
    .map(([, code]) => code);
}

/** How the dispatcher answers and what it tells its mount. */
export interface DispatchSink {
  reply(id: number, result: number, payload?: unknown, extra?: unknown): void;
  errnoOf(op: string, err: unknown): number;
  onInit(): void;
  onExit(loopResult: number): void;
  /** the invalidation barrier `token` was reached */
  onInvalidated?(token: number): void;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/** The function the binding calls for every request of one mount; `stats` counts them. */
export function makeDispatch(ops: Ops, sink: DispatchSink, stats: OpStats) {
  const answer = (id: number, name: OpName, def: OpDef, v: unknown, op: number, t0: number) => {
    let r: Reply;
    try {
      r = def.enc ? def.enc(v) : done(v);
    } catch (err) {
      r = [sink.errnoOf(name, err)];
    }
    sink.reply(id, r[0], r[1], r[2]);
    stats.end(op, t0, r[0]);
    if (name === "init") sink.onInit();
  };
  return (
    op: number,
    id: number,
    uid: number,
    gid: number,
    pid: number,
    umask: number,
    path: P | null,
    a: unknown,
    b: unknown,
    d: unknown,
    e: unknown,
  ): void => {
    if (op === OP_EXIT) {
      sink.onExit(n(id));
      return;
    }
    if (op === OP_INVALIDATED) {
      sink.onInvalidated?.(n(id));
      return;
    }
    const name = BY_CODE[op];
    if (name === undefined) {
      sink.reply(id, sink.errnoOf("?", new Error(`op ${op}`)));
      return;
    }
    const def = TABLE[name];
    const t0 = stats.begin();
    const fail = (err: unknown) => {
      const errno = sink.errnoOf(name, err);
      sink.reply(id, errno);
      stats.end(op, t0, errno);
      if (name === "init") sink.onInit();
    };
    let v: unknown;
    try {
      v = def.run(ops, { uid, gid, pid, umask }, path as P, a, b, d, e);
    } catch (err) {
      fail(err);
      return;
    }
    if (isThenable(v)) v.then((x) => answer(id, name, def, x, op, t0), fail);
    else answer(id, name, def, v, op, t0);
  };
}
