/**
 * The fallocate(2) modes a read-write mount answers, as a store that allocates as it commits
 * can: mode 0 reserves space, which beyond the end grows the file (like ftruncate) and
 * within it does nothing; KEEP_SIZE reserves without growing, so it does nothing past the
 * checks. Punching a hole, zeroing, collapsing or inserting a range: EOPNOTSUPP, which
 * callers (cp, fallocate(1), glibc) take as "not here" (spec/FUSE.md).
 */
import { MAX_FILE_BYTES } from "../writer/index.js";
import { ErrnoError } from "./errno.js";

const FALLOC_PLAIN = 0;
const FALLOC_KEEP_SIZE = 1;

/** What a fallocate of `mode` over [offset, offset + length) asks of the file. */
export type FallocateEffect = "grow" | "none";

/** The effect of a fallocate; throws EOPNOTSUPP for other modes, EFBIG past the largest. */
export function fallocateEffect(mode: number, offset: number, length: number): FallocateEffect {
  if (mode !== FALLOC_PLAIN && mode !== FALLOC_KEEP_SIZE) {
    throw new ErrnoError("EOPNOTSUPP", `fallocate mode ${mode}`);
  }
  if (offset + length > MAX_FILE_BYTES) throw new ErrnoError("EFBIG", "past the largest file");
  return mode === FALLOC_PLAIN ? "grow" : "none";
}
