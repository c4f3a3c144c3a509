/**
 * Argument checks at the edge of the library API: what a caller passes is checked here
 * (E_USAGE naming the argument), before any store is opened.
 */
import { UsageError } from "../errors.js";

/** `value` when it is a non-empty string; E_USAGE naming `name` otherwise. */
export function needString(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") {
    throw new UsageError("E_USAGE", `${name}: expected a non-empty string`, { argument: name });
  }
  return value;
}

/** `value` when it is undefined or an AbortSignal; E_USAGE otherwise. */
export function optionalSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new UsageError("E_USAGE", "signal: expected an AbortSignal", { argument: "signal" });
}

/** `value` when it is undefined or a function; E_USAGE naming `name` otherwise. */
export function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new UsageError("E_USAGE", `${name}: expected a function`, { argument: name });
}

/** The options object `value` (its fields all optional), {} when undefined; E_USAGE otherwise. */
export function optionsObject<T extends object>(value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null) {
    throw new UsageError("E_USAGE", "options: expected an object", { argument: "options" });
  }
  return value;
}
