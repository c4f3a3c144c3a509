/**
 * Options of pack: the settings the new store records (store/store-settings.ts, with
 * their defaults) and pack's own, with their defaults in {@link packOptions}.
 */
import * as os from "node:os";
import { abortingProgress, type EngineWarning, UsageError } from "../errors.js";
import { type StoreSettings, storeSettings } from "../store/store-settings.js";
import { ZIP_LIMITS_DEFAULT, type ZipLimits } from "../zip/zip-entries.js";

/**
 * Options of pack. The fields of StoreSettings (codec, level, superChunkBytes, chunk,
 * order) are recorded in the new store; their defaults are StoreSettings'.
 */
export interface PackOptions extends StoreSettings {
  /** worker threads for scanning and compressing; default the number of cores */
  threads: number;
  /** what a zip source may inflate to (ratio and total caps); default ZIP_LIMITS_DEFAULT */
  zipLimits: ZipLimits;
  /**
   * patterns of entries to leave out (glob/path-glob.ts `excludeMatcher`: a name at any
   * depth, or a path from the source root with '/'); default none
   */
  exclude: readonly string[];
  /** leave out entries on another file system than their source (mount points); default false */
  oneFileSystem: boolean;
}

export interface PackProgress {
  readonly phase: "walk" | "scan" | "plan" | "write" | "commit";
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** Callbacks of a running pack; the engine never prints. */
export interface PackHooks {
  onProgress?: (p: PackProgress) => void;
  onWarning?: (w: EngineWarning) => void;
  /**
   * Stops the pack: checked at each phase and after each file scanned and super-chunk
   * written; the pack then rejects with AbortError E_ABORTED and removes its partial store.
   */
  signal?: AbortSignal | undefined;
}

/** `hooks` whose onProgress, after the caller's, throws AbortError once `signal` fired. */
export function abortableHooks(hooks: PackHooks): PackHooks {
  const { signal, onProgress } = hooks;
  if (signal === undefined) return hooks;
  return { ...hooks, onProgress: abortingProgress(signal, "pack", onProgress) };
}

/** Fills defaults and validates; UsageError E_USAGE on a bad value. */
export function packOptions(p: Partial<PackOptions> = {}): PackOptions {
  const settings = storeSettings(p);
  const threads = p.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new UsageError("E_USAGE", `threads must be between 1 and 256, got ${threads}`);
  }
  return {
    ...settings,
    threads,
    zipLimits: { ...ZIP_LIMITS_DEFAULT, ...p.zipLimits },
    exclude: p.exclude ?? [],
    oneFileSystem: p.oneFileSystem ?? false,
  };
}
