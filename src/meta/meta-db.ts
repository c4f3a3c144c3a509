/**
 * meta/: the metadata database of a store, superchunk.db (SQLite through better-sqlite3,
 * the only folder importing it). It holds the file tree (inodes, entries, xattrs), each
 * file's content as extents over sub-blocks (contents, extents), the sub-block index
 * (sub_blocks: hash key to super-chunk and offset) and the super-chunk table, with the
 * refcounts that tell live data from dead. Words and invariants: spec/FORMAT.md.
 *
 * Hashes are indexed by a 64-bit key (their first 8 bytes), not stored whole: a lookup
 * by hash returns candidates, and the caller confirms the full hash (the super-chunk
 * header for a sub-block) before it deduplicates against one.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction survives a crash and
 * an interrupted one leaves no trace. Writers group a freeze with the extent and refcount
 * changes that refer to it in one `transaction`.
 */
import type { Extent, InodeId, SubBlockId, SuperChunkId } from "../types.js";
import { BlockTable } from "./block-table.js";
import { ContentTable } from "./content-table.js";
import { EntryTable, type TreeProblem } from "./entry-table.js";
import { type CheckedChild, InodeTable } from "./inode-table.js";
import { Maintenance } from "./maintenance.js";
import { MetaConnection } from "./meta-connection.js";
import { createDatabase, databaseFromBuffer, openDatabase, type Sqlite } from "./open-db.js";
import type {
  ContentId,
  ContentRecord,
  DirEntry,
  InodeCounts,
  InodePatch,
  InodeRecord,
  MetaStats,
  NewInode,
  NewSubBlock,
  NewSuperChunk,
  RefcountRepair,
  ResolvedExtent,
  SubBlockRecord,
  SuperChunkRecord,
  WalkEntry,
  XattrRecord,
} from "./records.js";
import { wrapSqliteError } from "./sqlite-error.js";
import { XattrTable } from "./xattr-table.js";

/** Options of MetaDb.open. */
export interface MetaDbOpenOptions {
  /** Open without write access (default false). Works in a read-only directory too. */
  readonly readonly?: boolean;
}

/**
 * One open metadata database: the file tree, contents and extents, the sub-block index
 * and super-chunk table, xattrs. Transactions, `meta` keys, compaction and closing come
 * from MetaConnection. Statements are prepared once per instance.
 *
 * @example
 * const db = MetaDb.create(join(storeDir, META_DB_FILE));
 * db.transaction(() => {
 *   db.insertInode({ ino: ROOT_INO, kind: InodeKind.dir, mode: 0o755, ... });
 *   db.setMeta(MetaKey.state, "complete");
 * });
 * db.close();
 */
export class MetaDb extends MetaConnection {
  readonly #inodes: InodeTable;
  readonly #entries: EntryTable;
  readonly #contents: ContentTable;
  readonly #blocks: BlockTable;
  readonly #xattrs: XattrTable;
  readonly #maint: Maintenance;

  private constructor(db: Sqlite, path: string, readonly: boolean) {
    super(db, path, readonly);
    this.#inodes = new InodeTable(db, path);
    this.#entries = new EntryTable(db, path);
    this.#contents = new ContentTable(db, path);
    this.#blocks = new BlockTable(db);
    this.#xattrs = new XattrTable(db);
    this.#maint = new Maintenance(db);
  }

  /** Creates a new database with the schema, in WAL mode, state "building". E_DEST_EXISTS if `path` exists. */
  static create(path: string): MetaDb {
    return MetaDb.#wrap(createDatabase(path), path, false);
  }

  /**
   * Opens an existing database. E_NOT_A_STORE if missing or not a superchunk database;
   * E_FORMAT_VERSION if written by a newer format.
   */
  static open(path: string, opts: MetaDbOpenOptions = {}): MetaDb {
    const readonly = opts.readonly === true;
    return MetaDb.#wrap(openDatabase(path, readonly), path, readonly);
  }

  /** Opens a database image held in memory (e.g. the entry of an archive), read-only. */
  static fromBuffer(buf: Buffer, label = "<buffer>"): MetaDb {
    return MetaDb.#wrap(databaseFromBuffer(buf, label), label, true);
  }

  /** Prepares the statements; closes the handle if that fails. */
  static #wrap(db: Sqlite, path: string, readonly: boolean): MetaDb {
    try {
      return new MetaDb(db, path, readonly);
    } catch (err) {
      db.close();
      throw wrapSqliteError(err, path, "prepare statements");
    }
  }

  // ---- inodes and entries -------------------------------------------------
  /** Inserts an inode; returns its number. Content refcounts are not touched (addContentRef). */
  insertInode(rec: NewInode): InodeId {
    return this.#inodes.insert(rec);
  }

  getInode(ino: InodeId): InodeRecord | undefined {
    return this.#inodes.get(ino);
  }

  /**
   * An inode a reader may trust (its kind agrees with its content and target, a file's size
   * with its content's: validate-records.ts), else E_CORRUPT naming the store and inode.
   */
  readInode(ino: InodeId): InodeRecord | undefined {
    return this.#inodes.read(ino);
  }

  /** Changes some attributes of an inode; false if it does not exist. */
  updateInode(ino: InodeId, patch: InodePatch): boolean {
    return this.transaction(() => this.#inodes.update(ino, patch));
  }

  /** Links `name` (raw bytes) in directory `parent` to `ino`. E_DEST_EXISTS if taken. */
  addEntry(parent: InodeId, name: Buffer, ino: InodeId): void {
    this.#entries.add(parent, name, ino);
  }

  lookup(parent: InodeId, name: Buffer): InodeId | undefined {
    return this.#entries.lookup(parent, name);
  }

  /** Entries of a directory, sorted by name bytes. */
  listDir(parent: InodeId): DirEntry[] {
    return this.#entries.list(parent);
  }
  /** Entries of a directory with their inodes checked (as readInode), by name bytes. */
  readDir(parent: InodeId): CheckedChild[] {
    return this.#inodes.children(parent);
  }

  /** Resolves a '/'-separated path from the root ("" and "/" are the root); undefined if missing. */
  resolvePath(path: string | Buffer): InodeId | undefined {
    return this.#entries.resolve(path);
  }

  /**
   * Every entry reachable from the root, depth first, parents before children. A bad name,
   * an entry pointing at a missing inode or a directory reached twice is E_CORRUPT naming
   * the store; with `onProblem` it is reported there and skipped instead (fsck).
   */
  walk(onProblem?: (p: TreeProblem) => void): Iterable<WalkEntry> {
    return this.#entries.walk(onProblem);
  }

  countInodes(): InodeCounts {
    return this.#inodes.counts();
  }

  /** Sets nlink of every inode from the entries; returns how many changed. */
  recomputeNlinks(): number {
    return this.transaction(() => this.#inodes.recomputeNlinks());
  }

  // ---- contents and extents -------------------------------------------------
  /**
   * Contents whose whole-file SHA-256 shares the 64-bit key of `hash`, by id. These are
   * candidates only: the database does not keep the full hash, so before reusing one for
   * whole-file dedup the caller must confirm that it holds the same bytes: same size and
   * extents naming, in order, sub-blocks whose full hashes (confirmed in their
   * super-chunk headers) are the new file's, or its bytes read back hash to `hash`.
   */
  findContentCandidates(hash: Uint8Array): ContentRecord[] {
    return this.#contents.findCandidates(hash);
  }

  getContent(id: ContentId): ContentRecord | undefined {
    return this.#contents.get(id);
  }

  /**
   * Records a content (refcount 0) and its extents atomically, adding 1 to the refcount
   * of the sub-block of every non-hole extent. `hash` is the whole file's SHA-256; only
   * its key is kept.
   */
  insertContent(hash: Uint8Array, size: number, extents: readonly Extent[]): ContentId {
    return this.transaction(() => this.#contents.insert(hash, size, extents));
  }

  /** Adds `delta` to a content's refcount (the number of inodes using it). */
  addContentRef(content: ContentId, delta: number): void {
    this.#contents.addRef(content, delta);
  }

  getExtents(content: ContentId): Extent[] {
    return this.#contents.extents(content);
  }

  /**
   * All extents of a content resolved to super-chunk locations, with file offsets: one
   * row read and one statement over its sub-blocks. E_CORRUPT if they do not tile it.
   */
  resolveExtents(content: ContentId): ResolvedExtent[] {
    return this.#contents.resolve(content);
  }

  /** The one extent holding byte `fileOffset` (resolves the content, then bisects). */
  findExtent(content: ContentId, fileOffset: number): ResolvedExtent | undefined {
    return this.#contents.findExtent(content, fileOffset);
  }

  // ---- sub-blocks and super-chunks ------------------------------------------
  insertSuperChunk(rec: NewSuperChunk): SuperChunkId {
    return this.#blocks.insertSuperChunk(rec);
  }

  getSuperChunk(id: SuperChunkId): SuperChunkRecord | undefined {
    return this.#blocks.getSuperChunk(id);
  }

  listSuperChunks(): SuperChunkRecord[] {
    return this.#blocks.listSuperChunks();
  }

  /**
   * Indexes a sub-block (refcount 0) under the 64-bit key of `rec.hash`; the full hash is
   * not kept (its super-chunk's header has it). Two sub-blocks may share a key.
   */
  insertSubBlock(rec: NewSubBlock): SubBlockId {
    return this.#blocks.insertSubBlock(rec);
  }

  /**
   * Sub-blocks whose SHA-256 shares the 64-bit key of `hash`, by id. These are candidates
   * only: before deduplicating against one, the caller must confirm the full hash against
   * its super-chunk's header, in the entry whose offset (sum of the lengths before it) is
   * the candidate's `offset`. No candidate confirmed: the sub-block is new.
   */
  findSubBlockCandidates(hash: Uint8Array): SubBlockRecord[] {
    return this.#blocks.findSubBlockCandidates(hash);
  }

  getSubBlock(id: SubBlockId): SubBlockRecord | undefined {
    return this.#blocks.getSubBlock(id);
  }

  /** Sub-blocks indexed in one super-chunk, by offset (scans the index: for repack and fsck). */
  listSubBlocks(superChunk: SuperChunkId): SubBlockRecord[] {
    return this.#blocks.listSubBlocks(superChunk);
  }

  setXattr(ino: InodeId, name: Buffer, value: Buffer): void {
    this.#xattrs.set(ino, name, value);
  }

  getXattr(ino: InodeId, name: Buffer): Buffer | undefined {
    return this.#xattrs.get(ino, name);
  }

  /** Attributes of an inode, sorted by name bytes. */
  listXattrs(ino: InodeId): XattrRecord[] {
    return this.#xattrs.list(ino);
  }

  /** Removes an attribute; false if it was not set. */
  removeXattr(ino: InodeId, name: Buffer): boolean {
    return this.#xattrs.remove(ino, name);
  }

  /** Whether any inode has an attribute named `name` (scans the table). */
  anyXattrNamed(name: Buffer): boolean {
    return this.#xattrs.anyNamed(name);
  }

  // ---- whole store -----------------------------------------------------------
  stats(): MetaStats {
    return this.#maint.stats();
  }

  /** Inodes whose content uses sub-block `id` (what a damaged sub-block affects); scans. */
  inodesUsingSubBlock(id: SubBlockId): InodeId[] {
    return this.#maint.inodesUsingSubBlock(id);
  }

  /** Recomputes every refcount and live_bytes; returns how many rows were wrong. */
  recomputeRefcounts(): RefcountRepair {
    return this.transaction(() => this.#maint.recomputeRefcounts());
  }
}
