/**
 * api/: the library's public functions, re-exported by src/index.ts. Each checks its
 * arguments and calls the layers below, the same calls the CLI's commands make.
 */
export type { Entry, EntryKind } from "./entry.js";
export {
  type ExtractOptions,
  type ExtractProgress,
  type ExtractResult,
  extract,
} from "./extract.js";
export { ls } from "./ls.js";
export {
  type FsckOptions,
  type FsckProblem,
  type FsckProgress,
  type FsckReport,
  type FsckResult,
  fsck,
  type RepackOptions,
  type RepackSummary,
  repack,
} from "./maintain.js";
export { type Mount, type MountOptions, mount } from "./mount.js";
export { type PackOptions, type PackProgress, type PackResult, pack } from "./pack.js";
export { type SealOptions, type SealSummary, seal } from "./seal.js";
export { type PathStats, type StatsOptions, type StoreStats, stats } from "./stats.js";
export {
  type LsOptions,
  type OpenStoreOptions,
  openStore,
  type ReadStreamOptions,
  type Store,
} from "./store.js";
