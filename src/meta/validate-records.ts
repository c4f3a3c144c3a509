/**
 * The database is input, not authority: the checks a row must pass before a reader trusts
 * it, as pure functions answering what is wrong (a short phrase) or undefined. Readers
 * turn a problem into a CorruptError E_CORRUPT naming the store and the row
 * (`corruptRow`); fsck can report the same phrases without throwing. The rules are those
 * of spec/FORMAT.md ("Rules for readers of the metadata").
 */
import { CorruptError } from "../errors.js";
import { InodeKind } from "../types.js";
import type { InodeRecord } from "./records.js";

/** The longest entry name accepted, in bytes (NAME_MAX). */
export const NAME_MAX_BYTES = 255;

const SLASH = 0x2f;
const DOT = 0x2e;
const KINDS = new Set<number>(Object.values(InodeKind));

/** What is wrong with an entry name, or undefined when it can be one path component. */
export function nameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return "empty name";
  if (name.length > NAME_MAX_BYTES) return `name longer than ${NAME_MAX_BYTES} bytes`;
  if (name.includes(0)) return "name holds a NUL byte";
  if (name.includes(SLASH)) return "name holds '/'";
  if (name.length <= 2 && name.every((b) => b === DOT)) return "name is '.' or '..'";
  return undefined;
}

/** Facts about an inode's row that come from other tables. */
export interface InodeFacts {
  /** `contents.size` of the inode's content; null when it has none or the row is missing */
  readonly contentSize: number | null;
  /** true when some entry has the inode as its parent */
  readonly hasEntries: boolean;
}

/** What is wrong with an inode row (its kind against its content, target and size). */
export function inodeProblem(rec: InodeRecord, facts: InodeFacts): string | undefined {
  const { kind, content, target, size } = rec;
  if (!KINDS.has(kind)) return `unknown kind ${kind}`;
  if (!Number.isSafeInteger(size) || size < 0) return `size ${size} is not a byte count`;
  if (kind !== InodeKind.dir && facts.hasEntries) return "not a directory, yet holds entries";
  if (kind === InodeKind.symlink) {
    if (target === null || target.length === 0) return "a symlink with an empty target";
  } else if (target !== null) return "only a symlink has a target";
  if (kind !== InodeKind.file) return content === null ? undefined : "only a file has a content";
  if (content === null) return size === 0 ? undefined : `no content for a size of ${size} bytes`;
  if (facts.contentSize === null) return `names missing content ${content}`;
  if (facts.contentSize !== size) {
    return `size ${size} differs from its content's ${facts.contentSize} bytes`;
  }
  return undefined;
}

/** What is wrong with one sub-block extent of a content, against its super-chunk's row. */
export function extentProblem(
  subBlock: number,
  superChunk: number,
  offset: number,
  length: number,
  rawBytes: number | null,
): string | undefined {
  if (rawBytes === null) return `sub-block ${subBlock} names missing super-chunk ${superChunk}`;
  if (!(offset >= 0 && length > 0 && offset + length <= rawBytes)) {
    return (
      `sub-block ${subBlock} [${offset}, +${length}) lies outside super-chunk ` +
      `${superChunk} (${rawBytes} raw bytes)`
    );
  }
  return undefined;
}

/**
 * The error for a damaged row: one line naming the store (its database), the row and the
 * problem. `row` reads like "inode 12" or "entry \"a/b\" in directory 3".
 */
export function corruptRow(
  store: string,
  row: string,
  problem: string,
  data: Record<string, unknown>,
): CorruptError {
  return new CorruptError("E_CORRUPT", `${store}: ${row}: ${problem}`, {
    path: store,
    ...data,
    problem,
  });
}

/** How an entry is named in errors: its name as JSON text and its directory. */
export function entryLabel(parent: number, name: Uint8Array): string {
  return `entry ${JSON.stringify(Buffer.from(name).toString("utf8"))} in directory ${parent}`;
}
