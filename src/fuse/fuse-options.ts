/**
 * The libfuse `-o` option string of a superchunk mount: the options every mount gets (see the
 * header of fuse-mount.ts) plus the user's, checked against a list of libfuse2 options that make
 * sense for a read-only store. Checking first matters: libfuse2 mounts before it parses its own
 * options, so an unknown one would fail only after the kernel mount exists.
 */
import { UsageError } from "../errors.js";

/** Options of the option string. */
export interface FuseOptionParams {
  /** what the mount table shows as the source; default "superchunk" */
  fsName?: string;
  /** kernel entry/attr cache lifetime in seconds; default 3600 (the store is immutable) */
  cacheTimeoutSeconds?: number;
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

/** The `-o` option list for libfuse: ours first, then the user's (which may override timeouts). */
export function fuseOptionString(p: FuseOptionParams): string {
  const t = p.cacheTimeoutSeconds ?? DEFAULT_CACHE_TIMEOUT_S;
  const name = (p.fsName ?? "superchunk").replace(/[\\,]/g, (c) => `\\${c}`);
  const list = [
    name,
    "subtype=superchunk",
    "use_ino",
    "ro",
    "default_permissions",
    "kernel_cache",
    `entry_timeout=${t}`,
    `attr_timeout=${t}`,
    `negative_timeout=${t}`,
  ];
  for (const o of p.fuseOptions ?? []) {
    checkFuseOption(o);
    list.push(o);
  }
  return list.join(",");
}
