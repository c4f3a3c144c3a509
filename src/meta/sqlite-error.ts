/**
 * Maps better-sqlite3 errors (SqliteError with an extended result code such as
 * "SQLITE_FULL") onto superchunk's EngineError families.
 */
import {
  CorruptError,
  EngineError,
  InternalError,
  IoError,
  NotFoundError,
  UsageError,
} from "../errors.js";

/** The extended SQLite result code of an error, or undefined if it is not one. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
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
  if (code === "SQLITE_NOTADB") return new NotFoundError("E_NOT_A_STORE", message, data, err);
  if (code.startsWith("SQLITE_CONSTRAINT")) return new UsageError("E_USAGE", message, data, err);
  if (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_PERM")) {
    return new IoError("E_UNREADABLE", message, data, err);
  }
  return new IoError("E_IO", message, data, err);
}
