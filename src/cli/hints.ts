/**
 * The next step after an error, when it is known: one `hint:` line main prints under the
 * error (a busy mountpoint → `fuser -m`, damaged data → `fsck --repair-from`, a store held
 * by a mount → unmount it, a slow server → `--http-timeout`).
 */
import type { EngineError } from "../errors.js";

const DAMAGED = new Set([
  "E_SUPERCHUNK_CORRUPT",
  "E_SUPERCHUNK_MISSING",
  "E_SUBBLOCK_HASH",
  "E_INFLATE_BOUND",
]);

function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The hint for `err` met by `command`, or undefined when there is none to give. */
export function hintFor(err: EngineError, command: string): string | undefined {
  const d = err.data;
  const mnt = text(d.mountpoint) ?? "MOUNTPOINT";
  switch (err.code) {
    case "E_MOUNT_BUSY":
      return d.busy === true
        ? `see which processes use it: fuser -m ${mnt}; or detach it now: superchunk umount --lazy ${mnt}`
        : `unmount what is there first: superchunk umount ${mnt} (or fusermount -u ${mnt})`;
    case "E_STORE_LOCKED":
      return lockHint(d.holder);
    case "E_TIMEOUT":
      return command === "mount"
        ? "a slow server: give it longer with --http-timeout SECS, or read ahead with --fetch-ahead SIZE"
        : undefined;
    case "E_CORRUPT":
      return command === "fsck"
        ? undefined
        : "'superchunk fsck STORE' checks the store; 'superchunk fsck STORE --rebuild' restores a damaged database from its metadata copy";
    default:
      if (!DAMAGED.has(err.code) || command === "fsck") return undefined;
      return "'superchunk fsck STORE' names the damaged files; 'superchunk fsck STORE --repair-from COPY' restores them from a copy of the files";
  }
}

/** Who holds the lock and how to release it. */
function lockHint(holder: unknown): string | undefined {
  if (typeof holder !== "object" || holder === null) return undefined;
  const purpose = text((holder as { purpose?: unknown }).purpose);
  const pid = (holder as { pid?: unknown }).pid;
  const m = purpose === undefined ? undefined : /^mount (.+)$/.exec(purpose);
  if (m) return `it is mounted at ${m[1]}: superchunk umount ${m[1]}`;
  return typeof pid === "number" ? `wait for process ${pid} to finish, or stop it` : undefined;
}
