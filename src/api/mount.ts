/**
 * `mount(store, mountpoint, options)`: a store served as a file system by this process
 * through FUSE, read-only unless asked, until `unmount()`. The FUSE code and its native
 * binding are loaded only when `mount` is called (mount-open.ts is imported on demand), so
 * importing the library never needs libfuse.
 */
import * as path from "node:path";
import type { HttpSourceOptions } from "../blobstore/http-byte-source.js";
import type { S3Options } from "../blobstore/s3-client.js";
import { UsageError } from "../errors.js";
import { resolveStoreLocation, storeKindOf } from "../location/store-kind.js";
import { COMPACT_IDLE_MS } from "../writer/index.js";
import { needString, optionalFunction, optionsObject } from "./args.js";

/** Options of {@link mount}. */
export interface MountOptions {
  /**
   * serve the store read-write: a store directory (holding its writer lock while mounted)
   * or an `s3://` store (taking its writer's lease); default false, read-only. An archive
   * is always read-only (E_USAGE).
   */
  readWrite?: boolean;
  /** memory for inflated super-chunks, bytes; default 512 MiB */
  cacheSize?: number;
  /** extra FUSE options: "allow_other", "nonempty", "max_read=N", ... */
  fuseOptions?: readonly string[];
  /** receives the mount's log lines (failed operations, background errors); default none */
  onLog?: (line: string) => void;
  /** `s3://` stores: endpoint, region, credentials */
  s3?: S3Options;
  /** http(s) archives: timeouts, retries */
  http?: HttpSourceOptions;
}

/** A live mount served by this process. */
export interface Mount {
  /** the absolute mountpoint */
  readonly mountpoint: string;
  readonly readOnly: boolean;
  /** resolves once the mount is gone (unmounted by `unmount()` or from outside) */
  readonly gone: Promise<void>;
  /**
   * Unmounts (lazily: a process with a file open there keeps it until it closes it), then
   * closes the store (a read-write one commits what is pending); idempotent.
   */
  unmount(): Promise<void>;
}

/**
 * Mounts the store at `store` (a directory, an archive, its http(s) URL, `s3://`) on the
 * empty directory `mountpoint`, served by this process: while mounted, read the mount only
 * with asynchronous calls (fs.promises, streams) or from other processes, never with the
 * synchronous fs calls, which would wait on this very event loop. Rejects with E_NO_FUSE
 * (no /dev/fuse or no binding), E_NOT_FOUND / E_DEST_NOT_EMPTY / E_MOUNT_BUSY (mountpoint),
 * E_STORE_LOCKED (another writer), E_NOT_A_STORE.
 *
 * @example
 * const m = await mount("photos.sc", "/mnt/photos");
 * try {
 *   console.log(await fs.promises.readdir(m.mountpoint));
 * } finally {
 *   await m.unmount();
 * }
 */
export async function mount(
  store: string,
  mountpoint: string,
  options?: MountOptions,
): Promise<Mount> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  const abs = path.resolve(needString(mountpoint, "mountpoint"));
  const readWrite = o.readWrite === true;
  const kind = storeKindOf(location);
  if (readWrite && kind !== "dir" && kind !== "s3") {
    throw new UsageError("E_USAGE", `${location}: an archive can only be mounted read-only`, {
      path: location,
    });
  }
  const log = optionalFunction(o.onLog, "onLog") ?? (() => {});
  // loaded here, not at import: the FUSE binding is needed by mounts only
  const { openAndMount } = await import("./mount-open.js");
  const { view, mount: m } = await openAndMount({
    store: location,
    mountpoint: abs,
    readOnly: false,
    readWrite,
    cacheBytes: o.cacheSize ?? 512 * 1024 * 1024,
    fetchAheadBytes: undefined,
    fuseOptions: [...(o.fuseOptions ?? [])],
    debug: false,
    follow: undefined,
    compactIdleMs: COMPACT_IDLE_MS,
    s3: o.s3 ?? {},
    http: o.http ?? {},
    workDir: undefined,
    publishIdleMs: undefined,
    log,
  });
  let closing: Promise<void> | undefined;
  const unmount = () => {
    closing ??= m.unmount().finally(() => view.close());
    return closing;
  };
  // unmounted from outside: the store is closed all the same
  m.gone.then(() => unmount().catch((err: unknown) => log(`superchunk: close: ${String(err)}`)));
  return { mountpoint: m.mountpoint, readOnly: !readWrite, gone: m.gone, unmount };
}
