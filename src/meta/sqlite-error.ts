/**
 * Maps better-sqlite3 errors (SqliteError with an extended result code such as
 * "SQLITE_FULL") onto superchunk's EngineError families, and guards every statement of a
 * handle so that a damaged database met by a query (SQLITE_CORRUPT, SQLITE_NOTADB:
 * "database disk image is malformed") is one-line E_CORRUPT naming the store, never a
 * raw SqliteError.
 */
import type Database from "better-sqlite3";
import {
  CorruptError,
  EngineError,
  InternalError,
  IoError,
  NotFoundError,
  UsageError,
} from "../errors.js";

/**
 * The extended SQLite result code of an error, or of the SQLite error an EngineError
 * wraps (`guardQueries`); undefined if it is neither.
 */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  const wrapped = err instanceof EngineError ? err.data.sqlite : undefined;
  return typeof wrapped === "string" ? wrapped : undefined;
}

/** True for the errors SQLite gives when a WAL database cannot get its -shm file. */
export function isReadonlyWalError(err: unknown): boolean {
  const code = sqliteCode(err);
  return (
    code === "SQLITE_READONLY_DIRECTORY" ||
    code === "SQLITE_READONLY_CANTINIT" ||
    code === "SQLITE_CANTOPEN" ||
    code === "SQLITE_READONLY_RECOVERY"
  );
}

/** SQLite's words for a statement naming a table, column or index the schema lacks. */
const SCHEMA_MISMATCH = /^(no such (table|column|index)|table \S+ has no column named)/;

/** Wraps an error thrown by SQLite into an EngineError naming the database and the step. */
export function wrapSqliteError(err: unknown, path: string, what: string): EngineError {
  if (err instanceof EngineError) return err;
  const code = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const data = { path, sqlite: code };
  const message = `${path}: ${what}: ${detail}`;
  if (code === undefined) return new InternalError(message, data, err);
  if (code === "SQLITE_FULL") return new IoError("E_NO_SPACE", message, data, err);
  if (code.startsWith("SQLITE_CORRUPT")) return new CorruptError("E_CORRUPT", message, data, err);
  if (code === "SQLITE_NOTADB") {
    // at open it is not a database at all; after, a damaged one
    if (what.startsWith("open")) return new NotFoundError("E_NOT_A_STORE", message, data, err);
    return new CorruptError("E_CORRUPT", message, data, err);
  }
  if (code === "SQLITE_ERROR" && SCHEMA_MISMATCH.test(detail)) {
    // the statements are the format's own, against a database whose version was checked:
    // a table or column they name is missing only where the stored schema was changed
    return new CorruptError("E_CORRUPT", `${path}: ${what}: damaged schema: ${detail}`, data, err);
  }
  if (code.startsWith("SQLITE_CONSTRAINT")) return new UsageError("E_USAGE", message, data, err);
  if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    return new IoError("E_UNREADABLE", message, data, err);
  }
  return new IoError("E_IO", message, data, err);
}

/** The step named in errors of statements run after the database opened. */
function queryStep(code: string): string {
  return /^SQLITE_(CORRUPT|NOTADB)/.test(code) ? "damaged metadata database" : "query";
}

type Statement = Database.Statement<unknown[], unknown>;
const RUNS = ["get", "all", "run"] as const;

/** Statements run through a guarded connection (a count tests and stats read). */
export interface QueryCounter {
  queries: number;
}

/**
 * Makes every statement `db` prepares from now on (`get`, `all`, `run`; `iterate` is not
 * guarded: nothing uses it) and `db.pragma`, `db.exec` throw EngineErrors naming `path`: E_CORRUPT for a damaged image, as `wrapSqliteError` for the
 * rest. Errors that are not SQLite's (a bug, an EngineError) pass unchanged. Each call is
 * counted in `counter`.
 */
export function guardQueries(
  db: Database.Database,
  path: string,
  counter: QueryCounter = { queries: 0 },
): void {
  const wrap = <F extends (...a: never[]) => unknown>(fn: F): F =>
    ((...a: Parameters<F>) => {
      counter.queries++;
      try {
        return fn(...a);
      } catch (err) {
        const code = sqliteCode(err);
        throw code === undefined ? err : wrapSqliteError(err, path, queryStep(code));
      }
    }) as F;
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const stmt = wrap(prepare)(sql) as Statement;
    for (const m of RUNS)
      (stmt as unknown as Record<string, unknown>)[m] = wrap(stmt[m].bind(stmt));
    return stmt;
  }) as typeof db.prepare;
  db.pragma = wrap(db.pragma.bind(db)) as typeof db.pragma;
  db.exec = wrap(db.exec.bind(db)) as typeof db.exec;
}
