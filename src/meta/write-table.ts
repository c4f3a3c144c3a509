/**
 * The write side of the metadata database for a read-write store (src/writer/): removing
 * entries, inodes, contents and super-chunks, renaming entries, and the rows of open
 * super-chunks. Every refcount it changes stays exact: releasing a content lowers the
 * refcount of each sub-block its extents name. Run these inside `MetaDb.transaction`.
 *
 * An **open** super-chunk is a `superchunks` row whose `codec` is {@link OPEN_CODEC}: its
 * bytes are the first `raw_bytes` of the raw append file `open/<id>.raw` (spec/FORMAT.md,
 * "Read-write stores").
 */
import { assert } from "../errors.js";
import { type InodeId, InodeKind, type SuperChunkId } from "../types.js";
import { decodeExtents } from "./extent-list.js";
import type { Sqlite } from "./open-db.js";
import type { ContentId } from "./records.js";
import { hasRowCrcs } from "./row-crc.js";
import { ROOT_INO } from "./schema.js";

/** `superchunks.codec` of a super-chunk still being filled (a raw append file). */
export const OPEN_CODEC = "open";

/** What a frozen super-chunk file turned out to be. */
export interface FrozenSuperChunk {
  readonly codec: string;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly subBlocks: number;
}

/** Prepared statements of the write-side operations. */
export class WriteTable {
  readonly #delEntry;
  readonly #moveEntry;
  readonly #countEntries;
  readonly #delInode;
  readonly #delXattrs;
  readonly #getContentList;
  readonly #delContent;
  readonly #setRef;
  readonly #unrefSub;
  readonly #setOpenLength;
  readonly #freeze;
  readonly #delSubs;
  readonly #delSuper;
  readonly #openIds;
  readonly #deadIds;
  readonly #orphans;
  readonly #subDirs;
  readonly #parentOf;
  readonly #namesOf;
  readonly #entryOf;

  constructor(db: Sqlite) {
    this.#delEntry = db.prepare("DELETE FROM entries WHERE parent = ? AND name = ?");
    const crc = hasRowCrcs(db, "entries") ? ", crc = entry_crc(@to, @toName, ino)" : "";
    this.#moveEntry = db.prepare(
      `UPDATE entries SET parent = @to, name = @toName${crc} WHERE parent = @from AND name = @name`,
    );
    this.#countEntries = db.prepare("SELECT count(*) FROM entries WHERE parent = ?").pluck();
    this.#delInode = db.prepare("DELETE FROM inodes WHERE ino = ?");
    this.#delXattrs = db.prepare("DELETE FROM xattrs WHERE ino = ?");
    this.#getContentList = db.prepare("SELECT refcount, extents FROM contents WHERE id = ?").raw();
    this.#delContent = db.prepare("DELETE FROM contents WHERE id = ?");
    this.#setRef = db.prepare("UPDATE contents SET refcount = ? WHERE id = ?");
    this.#unrefSub = db.prepare(
      "UPDATE sub_blocks SET refcount = refcount - 1 WHERE id = ? AND refcount > 0",
    );
    this.#setOpenLength = db.prepare(
      `UPDATE superchunks SET raw_bytes = ?, sub_blocks = ? WHERE id = ? AND codec = '${OPEN_CODEC}'`,
    );
    this.#freeze = db.prepare(
      `UPDATE superchunks SET codec = ?, raw_bytes = ?, stored_bytes = ?, sub_blocks = ?
       WHERE id = ? AND codec = '${OPEN_CODEC}'`,
    );
    this.#delSubs = db.prepare("DELETE FROM sub_blocks WHERE superchunk = ?");
    this.#delSuper = db.prepare("DELETE FROM superchunks WHERE id = ?");
    this.#openIds = db
      .prepare(`SELECT id FROM superchunks WHERE codec = '${OPEN_CODEC}' ORDER BY id`)
      .pluck();
    this.#deadIds = db
      .prepare(
        `SELECT id FROM superchunks WHERE codec <> '${OPEN_CODEC}' AND live_bytes = 0 ORDER BY id`,
      )
      .pluck();
    this.#orphans = db
      .prepare(
        `SELECT ino FROM inodes WHERE ino <> ${ROOT_INO}
         AND ino NOT IN (SELECT ino FROM entries) ORDER BY ino`,
      )
      .pluck();
    this.#parentOf = db.prepare("SELECT parent FROM entries WHERE ino = ? LIMIT 1").pluck();
    this.#namesOf = db.prepare(
      "SELECT parent, name FROM entries WHERE ino = ? ORDER BY parent, name",
    );
    this.#entryOf = db.prepare("SELECT parent, name FROM entries WHERE ino = ? LIMIT 1");
    this.#subDirs = db
      .prepare(
        `SELECT count(*) FROM entries e JOIN inodes i ON i.ino = e.ino
         WHERE e.parent = ? AND i.kind = ${InodeKind.dir}`,
      )
      .pluck();
  }

  /** Removes the entry `name` of `parent`; false when there was none. */
  removeEntry(parent: InodeId, name: Buffer): boolean {
    return this.#delEntry.run(parent, name).changes === 1;
  }

  /** Renames an entry in place (the target name must be free); false when there was none. */
  moveEntry(parent: InodeId, name: Buffer, newParent: InodeId, newName: Buffer): boolean {
    const args = { to: newParent, toName: newName, from: parent, name };
    return this.#moveEntry.run(args).changes === 1;
  }

  /** Number of entries in a directory. */
  countEntries(dir: InodeId): number {
    return this.#countEntries.get(dir) as number;
  }

  /** Number of entries of `dir` that are directories. */
  countSubDirs(dir: InodeId): number {
    return this.#subDirs.get(dir) as number;
  }

  /** The directory holding an entry for `ino` (a directory's only one); scans the entries. */
  parentOf(ino: InodeId): InodeId | undefined {
    return this.#parentOf.get(ino) as InodeId | undefined;
  }

  /** Every entry naming `ino` (a hard-linked file has several); scans the entries. */
  namesOf(ino: InodeId): { parent: InodeId; name: Buffer }[] {
    return this.#namesOf.all(ino) as { parent: InodeId; name: Buffer }[];
  }

  /** One entry naming `ino` (a directory's only one); scans the entries. */
  entryOf(ino: InodeId): { parent: InodeId; name: Buffer } | undefined {
    return this.#entryOf.get(ino) as { parent: InodeId; name: Buffer } | undefined;
  }

  /** Deletes an inode row and its xattrs. The caller releases its content first. */
  deleteInode(ino: InodeId): void {
    assert(ino !== ROOT_INO, "the root is never deleted");
    this.#delXattrs.run(ino);
    this.#delInode.run(ino);
  }

  /**
   * Takes one reference off a content; at 0 the content row is deleted and each extent's
   * sub-block loses one reference. Returns true when the content was deleted.
   */
  releaseContent(id: ContentId): boolean {
    const row = this.#getContentList.get(id) as [number, Buffer] | undefined;
    assert(row !== undefined, "release of a missing content", { content: id });
    assert(row[0] > 0, "content refcount below 0", { content: id });
    if (row[0] > 1) {
      this.#setContentRef(id, row[0] - 1);
      return false;
    }
    for (const c of decodeExtents(row[1], id)) {
      if (c <= 0) continue;
      const changed = this.#unrefSub.run(c).changes;
      assert(changed === 1, "sub-block refcount below 0 or row missing", { subBlock: c });
    }
    this.#delContent.run(id);
    return true;
  }

  #setContentRef(id: ContentId, n: number): void {
    this.#setRef.run(n, id);
  }

  /** Records the committed length and sub-block count of an open super-chunk. */
  setOpenLength(id: SuperChunkId, rawBytes: number, subBlocks: number): void {
    const n = this.#setOpenLength.run(rawBytes, subBlocks, id).changes;
    assert(n === 1, "no such open super-chunk", { superChunkId: id });
  }

  /** Switches an open super-chunk to the frozen file that now holds its bytes. */
  freezeSuperChunk(id: SuperChunkId, f: FrozenSuperChunk): void {
    const n = this.#freeze.run(f.codec, f.rawBytes, f.storedBytes, f.subBlocks, id).changes;
    assert(n === 1, "no such open super-chunk", { superChunkId: id });
  }

  /** Deletes a super-chunk row and every sub-block row in it. */
  deleteSuperChunk(id: SuperChunkId): void {
    this.#delSubs.run(id);
    this.#delSuper.run(id);
  }

  /** Ids of the open super-chunks. */
  openSuperChunks(): SuperChunkId[] {
    return this.#openIds.all() as SuperChunkId[];
  }

  /** Frozen super-chunks none of whose sub-blocks is used any more. */
  deadSuperChunks(): SuperChunkId[] {
    return this.#deadIds.all() as SuperChunkId[];
  }

  /** Inodes other than the root that no entry names (unlinked while open, then a crash). */
  orphanInodes(): InodeId[] {
    return this.#orphans.all() as InodeId[];
  }
}
