/**
 * What fsck reports: problems (errors: data or metadata are wrong) and warnings (harmless
 * oddities such as orphan super-chunk files), each with a stable code, the location, and for
 * damaged data the files and byte ranges it affects.
 */
import type { ErrorCode } from "../errors.js";

/** What kind of problem fsck found. */
export type FsckProblemKind =
  | "superchunk-missing"
  | "superchunk-corrupt"
  | "superchunk-row"
  | "subblock-damaged"
  | "subblock-missing"
  | "refcount"
  | "invariant"
  | "tree"
  | "content-hash"
  | "orphan";

/**
 * The invariant a tree or content problem breaks: stable names, listed with what they
 * check in spec/FORMAT.md ("fsck").
 */
export type FsckCheck =
  | "root"
  | "inode-kind"
  | "inode-content"
  | "inode-target"
  | "inode-size"
  | "inode-rdev"
  | "symlink-target"
  | "entry-name"
  | "entry-crc"
  | "inode-crc"
  | "entry-parent"
  | "entry-inode"
  | "dir-links"
  | "unreachable"
  | "cycle"
  | "nlink"
  | "xattr"
  | "content-hash";

/** A file that a damaged or missing sub-block breaks, and where. */
export interface AffectedFile {
  /** every path of the inode (hard links), '/'-separated from the root */
  readonly paths: string[];
  readonly ino: number;
  /** [file offset, length] of each extent naming a damaged sub-block (none: the whole file) */
  readonly ranges: [number, number][];
}

/** A sub-block whose bytes are damaged or missing. */
export interface DamagedSubBlock {
  readonly subBlock: number;
  /** its super-chunk, null when no row names it */
  readonly superChunk: number | null;
  readonly affected: AffectedFile[];
}

/** One finding. */
export interface FsckProblem {
  readonly kind: FsckProblemKind;
  /** for tree and content problems: the invariant broken */
  readonly check?: FsckCheck;
  readonly code: ErrorCode;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly superChunk?: number;
  readonly subBlock?: number;
  /** a blob key (orphans) */
  readonly key?: string;
  /** files a damaged or missing sub-block affects */
  affected?: AffectedFile[];
  /** set when a repair dealt with it */
  fixed?: boolean;
}

/** Progress of a running fsck. */
export interface FsckProgress {
  readonly phase: "metadata" | "verify" | "repair-scan" | "repair-write" | "reverify";
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** What the repairs did. */
export interface FsckRepairs {
  orphansRemoved: number;
  refcountRowsFixed: number;
  subBlocksRestored: number;
  superChunksRewritten: number;
  rowsRelocated: number;
}

/** The outcome of one fsck run. */
export interface FsckReport {
  /** the store's id (store/store-id.ts) */
  storeId: string | null;
  superChunks: number;
  subBlocks: number;
  /** stored bytes read and verified */
  bytesVerified: number;
  problems: FsckProblem[];
  errors: number;
  warnings: number;
  /** ids of sub-blocks whose bytes are damaged or missing */
  damagedSubBlocks: number[];
  /** every damaged or missing sub-block with the files and byte ranges it affects */
  damaged: DamagedSubBlock[];
  /** paths of every file that reads wrong bytes or fails because of them */
  affectedFiles: string[];
  repairs: FsckRepairs;
  /** after repairs, the findings of the verification run that followed */
  after?: FsckReport;
  seconds: number;
}

/** True when the report (after any repairs) has no errors. */
export function fsckClean(r: FsckReport): boolean {
  return (r.after ?? r).errors === 0;
}
