/**
 * The read-write FUSE operations over a WritableStore (src/writer), as a handler table of the
 * native binding. Paths (raw bytes) are resolved through the store on every op (the tree
 * changes, so nothing is cached here); handle ops use the store's handle numbers directly.
 * A file unlinked while open keeps working through its fd: libfuse renames it to
 * `.fuse_hidden*` and unlinks it at its last release (see fuse-options.ts on `hard_remove`).
 * The caller's uid/gid/umask (FuseCaller) becomes the store's CallerContext; the kernel checks
 * permission bits itself (`default_permissions`), the store checks ownership rules.
 *
 * close(2): `flush` commits the file when its last handle closes and is awaited, so close
 * returns once the data is in the store (visible; durable at the next group sync, as on
 * ext4 close is not durable); fsync and fsyncdir return once every change is durable. Opens
 * for reading only are answered by the binding (handle 0); reads give the store prefetch
 * hints and hand the files a walk reads next to the binding, as on a read-only mount, and
 * every change drops those before it is answered (fuse-rw-reads.ts). Failures go through
 * OpGuard like the read-only ops.
 */
import { constants as fsc } from "node:fs";
import type { InodeAttr } from "../reader/fs-view.js";
import type { InodeId } from "../types.js";
import type { TimeSpec, WritableStore } from "../writer/index.js";
import { absentXattrs } from "./absent-xattrs.js";
import { ErrnoError } from "./errno.js";
import { fallocateEffect } from "./fallocate-modes.js";
import { nulList, O_ACCMODE } from "./fuse-ops.js";
import { OPENED_IN_BINDING, type ReadSink, RwReads } from "./fuse-rw-reads.js";
import { chownCtx, ctxOf, rwTreeOps } from "./fuse-rw-tree.js";
import { RW_BLKSIZE_BYTES, toNativeStat, toWritableStatfs } from "./fuse-stat.js";
import { type Invalidator, KernelCache } from "./kernel-cache.js";
import { limitNames } from "./name-limit.js";
import { timeToNs } from "./native-encode.js";
import type {
  DirEntry,
  FuseCaller,
  FuseTimeArg,
  NativeFuseOps,
  NativeMount,
  NativeStat,
} from "./native-types.js";
import { OpGuard, type OpLogOptions } from "./op-guard.js";
import { checkXattrName, isAclName } from "./xattr-names.js";

/** chown's "leave unchanged" as uid_t/gid_t arrive from the binding. */
const ID_UNCHANGED = 0xffff_ffff;
const SET_ID_BITS = 0o6000;

/** A read-write mount's stat: st_blksize is one write request. */
function rwStat(a: InodeAttr) {
  return toNativeStat(a, RW_BLKSIZE_BYTES);
}

/** `v` once `wait` (if any) is over. */
function after<T>(wait: Promise<void> | undefined, v: T): T | Promise<T> {
  return wait === undefined ? v : wait.then(() => v);
}

function timeSpec(t: FuseTimeArg): TimeSpec {
  return typeof t === "string" ? t : timeToNs(t);
}

function idArg(id: number): number | undefined {
  return id === -1 || id === ID_UNCHANGED ? undefined : id;
}

/**
 * FUSE operations serving `store` read-write.
 * @example
 * const ops = new FuseRwOps(store, { log: (l) => process.stderr.write(`${l}\n`) });
 * await mountNative(mountpoint, ops.handlers(), ["use_ino", "default_permissions"]);
 */
export class FuseRwOps {
  readonly #s: WritableStore;
  readonly #guard: OpGuard;
  /** open handle → its inode (for fgetattr and fallocate) */
  readonly #handles = new Map<number, InodeId>();
  readonly #reads: RwReads;
  #mount: Partial<Pick<NativeMount, "setAbsentXattrs">> | undefined;
  /** xattr names no file has, answered by the binding (absent-xattrs.ts) */
  #absent = new Set<string>();
  readonly #cache: KernelCache;

  /** @param opts.preloadBytes bytes of files read ahead the binding keeps (default 16 MiB) */
  constructor(store: WritableStore, opts: OpLogOptions & { preloadBytes?: number }) {
    this.#s = store;
    this.#guard = new OpGuard(opts);
    this.#cache = new KernelCache((ino) => store.pathsOf(ino));
    this.#reads = new RwReads(store, opts.preloadBytes);
  }

  /**
   * The mount serving these ops: other names of a changed hard-linked file get invalidated,
   * and the binding answers getxattr of the names no file has (the kernel's check for file
   * capabilities before every write, `ls -l` asking for ACLs and labels); files read ahead
   * of a walk go to it.
   */
  attach(mount: Invalidator & ReadSink & Partial<Pick<NativeMount, "setAbsentXattrs">>) {
    this.#cache.attach(mount);
    this.#reads.attach(mount);
    this.#mount = mount;
    this.#absent = new Set(absentXattrs((n) => this.#s.anyXattrNamed(n)));
    mount.setAbsentXattrs?.([...this.#absent]);
  }

  /** Paths handed to the kernel for invalidation so far. */
  get invalidations(): number {
    return this.#cache.invalidations;
  }

  /** Number of open file handles (for tests and stats). */
  get openFiles(): number {
    return this.#handles.size;
  }

  /** The handler table to give mountNative. */
  handlers(): NativeFuseOps<Buffer> {
    const ops = {
      ...this.#readOps(),
      ...rwTreeOps(this.#s, this.#cache, (p) => this.#ino(p)),
      ...this.#attrOps(),
      ...this.#dataOps(),
    };
    const table = ops as Record<string, (...a: unknown[]) => unknown>;
    for (const [name, fn] of Object.entries(table)) {
      table[name] = this.#guard.wrap(name, this.#reads.watching(name, fn));
    }
    return limitNames(ops);
  }

  #readOps(): NativeFuseOps<Buffer> {
    const s = this.#s;
    return {
      getattr: (p) => rwStat(this.#attr(this.#ino(p))),
      fgetattr: (p, fh) => rwStat(this.#attr(this.#handleIno(p, fh))),
      // no opendir or releasedir: the binding opens directories without a trip to JS (the
      // kernel has checked the inode is a directory and, under default_permissions, access)
      readdir: (p) => this.#readdir(p),
      fsyncdir: () => s.sync(),
      readlink: (p) => s.readlink(this.#ino(p)),
      statfs: () => toWritableStatfs(s.statfs()),
      access: (p) => void this.#attr(this.#ino(p)),
      getxattr: (p, name) => {
        if (!isAclName(name)) checkXattrName(name); // no ACL is ENODATA, as on ext4
        return s.getxattrStrict(this.#ino(p), Buffer.from(name));
      },
      listxattr: (p) => nulList(s.listxattr(this.#ino(p))),
    };
  }

  #attrOps(): NativeFuseOps<Buffer> {
    const s = this.#s;
    return {
      chmod: (p, mode, c) => this.#statAfter(p, s.chmod(ctxOf(c), this.#ino(p), mode).ino),
      chown: (p, uid, gid, c) => {
        const ctx = chownCtx(c, idArg(gid));
        return this.#statAfter(p, s.chown(ctx, this.#ino(p), idArg(uid), idArg(gid)).ino);
      },
      utimens: (p, atime, mtime, c) => {
        const a = s.utimens(ctxOf(c), this.#ino(p), timeSpec(atime), timeSpec(mtime));
        return this.#statAfter(p, a.ino);
      },
      setxattr: (p, name, value, flags) => {
        checkXattrName(name);
        const ino = this.#ino(p);
        if (this.#absent.delete(name)) this.#mount?.setAbsentXattrs?.([...this.#absent]);
        s.setxattr(ino, Buffer.from(name), Buffer.from(value), flags);
        return this.#changedVia(p, ino);
      },
      removexattr: (p, name) => {
        checkXattrName(name);
        const ino = this.#ino(p);
        s.removexattr(ino, Buffer.from(name));
        return this.#changedVia(p, ino);
      },
    };
  }

  #dataOps(): NativeFuseOps<Buffer> {
    const s = this.#s;
    return {
      create: (p, mode, flags, c) => {
        const { parent, name } = s.parentOf(p);
        const { attr, fh } = s.create(ctxOf(c), parent, name, mode & 0o7777, flags);
        this.#handles.set(fh, attr.ino);
        return { fh, stat: rwStat(attr) };
      },
      open: (p, flags) => {
        const ino = this.#ino(p);
        const reading = (flags & O_ACCMODE) === fsc.O_RDONLY;
        if (!reading || flags & fsc.O_TRUNC) this.#reads.contentChanged();
        const fh = s.open(ino, flags);
        this.#handles.set(fh, ino);
        if (reading) this.#reads.opened(p, ino);
        return fh;
      },
      read: (p, fh, buf, offset) => this.#reads.read(p, fh, this.#handles.get(fh), buf, offset),
      write: (p, fh, data, offset, c) => {
        const ino = this.#beforeChange(p, fh, c);
        const n = s.write(fh, data, offset);
        return after(this.#changedVia(p, ino), n);
      },
      truncate: async (p, size, c) => {
        const ino = this.#ino(p);
        this.#killSetId(ino, c);
        await s.truncate(ino, size);
        return this.#statAfter(p, ino);
      },
      ftruncate: (p, size, fh, c) => {
        const ino = this.#beforeChange(p, fh, c);
        s.ftruncate(fh, size);
        return this.#statAfter(p, ino);
      },
      flush: (_p, fh) => s.flush(fh),
      // a file the binding opened for reading has nothing unsaved of its own: all is synced
      fsync: (_p, _datasync, fh) => (fh === OPENED_IN_BINDING ? s.sync() : s.fsync(fh)),
      release: async (_p, fh) => {
        try {
          await s.release(fh);
        } finally {
          this.#handles.delete(fh);
          this.#reads.released(fh);
        }
      },
      fallocate: (p, mode, offset, length, fh, c) => {
        this.#beforeChange(p, fh, c);
        return this.#fallocate(p, mode, offset, length, fh);
      },
    };
  }

  /** The inode open as `fh`, its set-id bits cleared first as a write by `c` clears them. */
  #beforeChange(p: Buffer | null, fh: number, c: FuseCaller): InodeId {
    const ino = this.#handleIno(p, fh);
    this.#killSetId(ino, c);
    return ino;
  }

  /**
   * Clears set-id bits of `ino` a change by non-root `c` removes (cheap check first). The
   * kernel's attributes of the name written through need no invalidation: after a write or
   * truncate it asks for them again (mtime and ctime changed); other names follow the change.
   */
  #killSetId(ino: InodeId, c: FuseCaller): void {
    if (c.uid === 0 || (this.#attr(ino).mode & SET_ID_BITS) === 0) return;
    this.#s.killSetId(chownCtx(c, -1), ino);
  }

  /** `ino` changed through the name `p`; its other names (if any) are invalidated. */
  #changedVia(p: Buffer | null, ino: InodeId): Promise<void> | undefined {
    return this.#cache.changed(ino, this.#s.nlinkOf(ino), p);
  }

  /** #changedVia, then the attributes after the change (the binding answers the next getattr) */
  #statAfter(p: Buffer | null, ino: InodeId) {
    const wait = this.#changedVia(p, ino);
    return wait === undefined ? rwStat(this.#attr(ino)) : wait.then(() => rwStat(this.#attr(ino)));
  }

  #ino(p: Buffer | null): InodeId {
    const ino = p === null ? undefined : this.#s.lookupPath(p);
    if (ino === undefined) throw new ErrnoError("ENOENT", `${p?.toString() ?? "?"}: not found`);
    return ino;
  }

  #handleIno(p: Buffer | null, fh: number): InodeId {
    return this.#handles.get(fh) ?? this.#ino(p);
  }

  #attr(ino: InodeId): InodeAttr {
    const a = this.#s.getattr(ino);
    if (a === undefined) throw new ErrnoError("ENOENT", `inode ${ino} vanished`);
    return a;
  }

  #readdir(p: Buffer): DirEntry<Buffer>[] {
    const dirIno = this.#ino(p);
    const dir = this.#attr(dirIno);
    const parent = p.length <= 1 ? dir : this.#attr(this.#s.parentOf(p).parent);
    const out: { name: Buffer | string; stat?: NativeStat }[] = [
      { name: ".", stat: rwStat(dir) },
      { name: "..", stat: rwStat(parent) },
    ];
    // a damaged entry is listed by name only: its own lookup answers EIO, as on ext4
    for (const e of this.#s.readdirAttrs(dirIno)) {
      if (e.attr !== undefined) out.push({ name: e.name, stat: rwStat(e.attr) });
      else if (e.damaged) out.push({ name: e.name });
    }
    return out;
  }

  /** fallocate: fallocate-modes.ts says what a mode does. */
  #fallocate(p: Buffer | null, mode: number, offset: number, length: number, fh: number) {
    const effect = fallocateEffect(mode, offset, length);
    const ino = this.#handleIno(p, fh);
    if (effect === "none") return undefined;
    if (offset + length <= this.#attr(ino).size) return undefined;
    this.#s.ftruncate(fh, offset + length);
    return this.#changedVia(p, ino);
  }
}
