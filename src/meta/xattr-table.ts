/** Queries on `xattrs`: extended attributes of an inode, names and values as raw bytes. */
import { UsageError } from "../errors.js";
import type { InodeId } from "../types.js";
import type { Sqlite } from "./open-db.js";
import type { XattrRecord } from "./records.js";

/** Prepared statements and operations of the `xattrs` table. */
export class XattrTable {
  readonly #set;
  readonly #get;
  readonly #list;
  readonly #remove;
  readonly #anyNamed;

  constructor(db: Sqlite) {
    this.#set = db.prepare(
      `INSERT INTO xattrs(ino, name, value) VALUES (?, ?, ?)
       ON CONFLICT(ino, name) DO UPDATE SET value = excluded.value`,
    );
    this.#get = db.prepare("SELECT value FROM xattrs WHERE ino = ? AND name = ?").pluck();
    this.#list = db.prepare("SELECT name, value FROM xattrs WHERE ino = ? ORDER BY name");
    this.#remove = db.prepare("DELETE FROM xattrs WHERE ino = ? AND name = ?");
    this.#anyNamed = db.prepare("SELECT 1 FROM xattrs WHERE name = ? LIMIT 1").pluck();
  }

  /** Whether any inode has an attribute named `name`. */
  anyNamed(name: Buffer): boolean {
    return this.#anyNamed.get(name) !== undefined;
  }

  /** Sets (creates or replaces) one attribute. */
  set(ino: InodeId, name: Buffer, value: Buffer): void {
    if (!Buffer.isBuffer(name) || name.length === 0 || !Buffer.isBuffer(value)) {
      throw new UsageError("E_USAGE", "xattr name must be non-empty bytes, value bytes", { ino });
    }
    this.#set.run(ino, name, value);
  }

  get(ino: InodeId, name: Buffer): Buffer | undefined {
    return this.#get.get(ino, name) as Buffer | undefined;
  }

  /** All attributes of an inode, sorted by name bytes. */
  list(ino: InodeId): XattrRecord[] {
    return this.#list.all(ino) as XattrRecord[];
  }

  /** Removes one attribute; false if it was not there. */
  remove(ino: InodeId, name: Buffer): boolean {
    return this.#remove.run(ino, name).changes > 0;
  }
}
