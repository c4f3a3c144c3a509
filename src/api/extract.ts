/**
 * `extract(store, dest, options)`: a store's files (or some paths) restored below a
 * directory, through export/'s extractTree, the same call `superchunk extract` makes.
 */
import type { EngineWarning } from "../errors.js";
import { type ExtractHooks, type ExtractSummary, extractTree } from "../export/extract.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { needString, optionalFunction, optionalSignal, optionsObject } from "./args.js";

/** Progress of an extract: files and bytes restored so far, of the totals. */
export interface ExtractProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** Options of {@link extract}. */
export interface ExtractOptions {
  /** paths in the store to restore, with the directories leading to them; default all */
  paths?: readonly string[];
  /** called after each entry restored */
  onProgress?: (p: ExtractProgress) => void;
  /** called for what could not be restored as it was (a device node without root, ...) */
  onWarning?: (w: EngineWarning) => void;
  /**
   * stops the extract: it rejects with AbortError (E_ABORTED) after removing everything
   * it made (the destination too when it created it)
   */
  signal?: AbortSignal;
}

/** What {@link extract} restored, with the warnings it reported. */
export type ExtractResult = ExtractSummary & { readonly warnings: readonly EngineWarning[] };

/**
 * Restores the files of the store at `store` (a directory, an archive, its http(s) URL or
 * `s3://bucket/prefix`) below `dest`, created when missing: contents, modes, times,
 * symlinks, hard links, special files and, as root, ownership. Nothing is written outside
 * `dest`. Rejects with E_NOT_A_STORE, E_NOT_FOUND (a path not in the store), E_PATH_ESCAPE,
 * E_CORRUPT / E_SUPERCHUNK_CORRUPT (damaged data), E_ABORTED.
 *
 * @example
 * await extract("photos.sc", "restored", { paths: ["2024/summer"] });
 */
export async function extract(
  store: string,
  dest: string,
  options?: ExtractOptions,
): Promise<ExtractResult> {
  const o = optionsObject(options);
  const location = resolveStoreLocation(needString(store, "store"));
  needString(dest, "dest");
  const paths = (o.paths ?? []).map((p, i) => needString(p, `paths[${i}]`));
  const warnings: EngineWarning[] = [];
  const onWarning = optionalFunction(o.onWarning, "onWarning");
  const onProgress = optionalFunction(o.onProgress, "onProgress");
  const hooks: ExtractHooks = {
    ...(onProgress === undefined ? {} : { onProgress }),
    onWarning: (w) => {
      warnings.push(w);
      onWarning?.(w);
    },
    signal: optionalSignal(o.signal),
  };
  const summary = await extractTree(location, dest, paths, hooks);
  return { ...summary, warnings };
}
