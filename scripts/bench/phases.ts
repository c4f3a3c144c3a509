/**
 * The read phases of the benchmark. A phase is one timed figure of a read column; a
 * session is what one fresh mount serves (caches dropped first): most sessions give one
 * phase, the metadata walk gives two (cold, then warm on the same mount). Pure data.
 */

/** Ids of every read phase, in report order. */
export const PHASE_IDS = [
  "readAll",
  "random",
  "randomReopen",
  "newest",
  "walkCold",
  "walkWarm",
  "lsR",
  "grep",
] as const;

/** One of {@link PHASE_IDS}. */
export type PhaseId = (typeof PHASE_IDS)[number];

/** Column labels of the phases. */
export const PHASE_LABELS: Readonly<Record<PhaseId, string>> = {
  readAll: "read-all s",
  random: "random s",
  randomReopen: "random reopen s",
  newest: "newest-release s",
  walkCold: "walk cold s",
  walkWarm: "walk warm s",
  lsR: "ls -lR newer s",
  grep: "grep include/ s",
};

/** What one fresh mount measures. */
export type SessionId = "readAll" | "random" | "randomReopen" | "newest" | "walk" | "lsR" | "grep";

/** Sessions run on every corpus. */
export const BASE_SESSIONS: readonly SessionId[] = ["readAll", "random", "randomReopen", "newest"];
/** Sessions added on the trees of many small files (kernel, doc): metadata. */
export const TREE_SESSIONS: readonly SessionId[] = ["walk", "lsR", "grep"];

/** The sessions of a corpus: the base ones, plus the tree ones when `tree` is set. */
export function sessionsFor(tree: boolean): SessionId[] {
  return tree ? [...BASE_SESSIONS, ...TREE_SESSIONS] : [...BASE_SESSIONS];
}
