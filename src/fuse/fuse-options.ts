/**
 * The libfuse `-o` options of a superchunk mount: the options every mount gets (see the header
 * of fuse-mount.ts and spec/FUSE.md; read-only and read-write mounts differ) plus the user's,
 * checked against a list of options that make sense for a store, so a typo is a usage error
 * naming the known ones rather than libfuse's terse refusal. Options libfuse 2 had and
 * libfuse 3 dropped are still accepted: `nonempty` (libfuse 3 always allows a non-empty
 * mountpoint; superchunk's own check still reads it), `relatime` (the kernel's default) and
 * `big_writes` (always on) are left out of the list given to libfuse.
 */
import { UsageError } from "../errors.js";

/** Options of the option list. */
export interface FuseOptionParams {
  /** what the mount table shows as the source; default "superchunk" */
  fsName?: string;
  /** kernel entry/attr cache lifetime in seconds; default 3600 (the store is immutable) */
  cacheTimeoutSeconds?: number;
  /**
   * read-only mounts: let the kernel keep file pages across opens (`kernel_cache`); default
   * true. False for a store that may change under the mount (following an S3 store's
   * pointer): the kernel then drops a file's cached pages at each open
   */
  kernelCache?: boolean;
  /** extra libfuse `-o` options from the user, e.g. ["allow_other"] */
  fuseOptions?: readonly string[];
}

const DEFAULT_CACHE_TIMEOUT_S = 3600;

const FLAG_OPTIONS = new Set([
  "allow_other",
  "allow_root",
  "auto_unmount",
  "nonempty",
  "default_permissions",
  "async_read",
  "sync_read",
  "direct_io",
  "kernel_cache",
  "auto_cache",
  "noauto_cache",
  "atime",
  "noatime",
  "relatime",
  "nosuid",
  "suid",
  "nodev",
  "dev",
  "noexec",
  "exec",
  "ro",
  "big_writes",
]);
const INT = /^\d+$/;
const VALUE_OPTIONS = new Map<string, RegExp>([
  ["max_read", INT],
  ["max_readahead", INT],
  ["max_background", INT],
  ["congestion_threshold", INT],
  ["blksize", INT],
  ["uid", INT],
  ["gid", INT],
  ["umask", /^[0-7]{1,4}$/],
  ["entry_timeout", /^\d+(\.\d+)?$/],
  ["negative_timeout", /^\d+(\.\d+)?$/],
  ["attr_timeout", /^\d+(\.\d+)?$/],
  ["ac_attr_timeout", /^\d+(\.\d+)?$/],
]);

/** Throws E_USAGE unless `opt` is an option a read-only superchunk mount accepts. */
export function checkFuseOption(opt: string): void {
  const eq = opt.indexOf("=");
  const key = eq < 0 ? opt : opt.slice(0, eq);
  const value = eq < 0 ? undefined : opt.slice(eq + 1);
  const pattern = VALUE_OPTIONS.get(key);
  const ok = value === undefined ? FLAG_OPTIONS.has(key) : pattern?.test(value) === true;
  if (!ok) {
    const known = [...FLAG_OPTIONS, ...[...VALUE_OPTIONS.keys()].map((k) => `${k}=N`)].join(", ");
    throw new UsageError(
      "E_USAGE",
      `unsupported mount option ${JSON.stringify(opt)}; known: ${known}`,
      {
        option: opt,
      },
    );
  }
}

/** Which kind of mount the option list is for. */
export type MountMode = "read-only" | "read-write";

/**
 * Kernel attr, entry and negative-entry cache lifetime of a read-write mount: as long as a
 * read-only mount's. Only this process changes the store while it is mounted, the kernel
 * sees each change through the name it was made by, and what it cannot see (the other names
 * of a hard-linked file) is invalidated before the change is answered (kernel-cache.ts).
 */
export const RW_CACHE_TIMEOUT_S = DEFAULT_CACHE_TIMEOUT_S;
/**
 * Largest write request of a read-write mount: 1 MiB, the kernel's default limit of 256 pages
 * (fs.fuse.max_pages_limit) and libfuse 3's own buffer size.
 */
export const RW_MAX_WRITE_BYTES = 1_048_576;
/** libfuse 2 options libfuse 3 no longer parses; accepted and left out (see the header). */
const DROPPED_IN_LIBFUSE3 = new Set(["nonempty", "relatime", "big_writes"]);

function ourOptions(p: FuseOptionParams, mode: MountMode): string[] {
  const name = (p.fsName ?? "superchunk").replace(/\\/g, "\\\\");
  const common = [`fsname=${name}`, "subtype=superchunk", "use_ino", "default_permissions"];
  if (mode === "read-write") {
    return [
      ...common,
      `max_write=${RW_MAX_WRITE_BYTES}`,
      "kernel_cache",
      // listings carry attributes as on a read-only mount (the kernel's "auto" sends a
      // LOOKUP per entry after a directory's first batch); changes invalidate as before
      "readdirplus=yes",
      // a close of a file opened read-only sends no FLUSH: it has nothing to commit
      "no_rofd_flush",
      // opens for reading only answer in the binding (handle 0), their releases too
      "open_rdonly",
      // getattrs answer from the attributes JS gave, until a change drops them
      "attr_cache",
      // setting a POSIX ACL answers EOPNOTSUPP in the binding (fuse-rw-ops.ts says why)
      "no_posix_acl",
      `entry_timeout=${RW_CACHE_TIMEOUT_S}`,
      `attr_timeout=${RW_CACHE_TIMEOUT_S}`,
      `negative_timeout=${RW_CACHE_TIMEOUT_S}`,
    ];
  }
  const t = p.cacheTimeoutSeconds ?? DEFAULT_CACHE_TIMEOUT_S;
  return [
    ...common,
    "ro",
    // kernel_cache keeps file pages across opens; cache_readdir (the binding's) listings
    ...(p.kernelCache === false ? [] : ["kernel_cache", "cache_readdir"]),
    // every listing carries its entries' attributes, not only a directory's first batch
    // (the kernel's "auto" asks plain READDIR then, and a LOOKUP per entry follows)
    "readdirplus=yes",
    `entry_timeout=${t}`,
    `attr_timeout=${t}`,
    `negative_timeout=${t}`,
  ];
}

/**
 * The libfuse `-o` options, one per element: ours first, then the user's (which may override
 * timeouts). Both kinds get `kernel_cache` (unless told otherwise for a followed store) and
 * long timeouts; a read-only mount also `ro`, a read-write one `max_write`. Not `hard_remove`: libfuse then renames a file unlinked
 * while open to `.fuse_hidden*` until its last close (as sshfs does), so every handle op still
 * has a path.
 */
export function fuseOptionList(p: FuseOptionParams, mode: MountMode = "read-only"): string[] {
  const list = ourOptions(p, mode);
  for (const o of p.fuseOptions ?? []) {
    checkFuseOption(o);
    if (!DROPPED_IN_LIBFUSE3.has(o)) list.push(o);
  }
  return list;
}
