/**
 * S3 failures as EngineErrors: missing objects, refused conditions, timeouts and
 * unreachable endpoints are told apart here, once, and every message names the
 * endpoint and the object.
 */
import { type EngineError, IoError, NotFoundError } from "../errors.js";

/** Where a request went, for messages and `data`. */
export interface S3Where {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key?: string;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT", "TimeoutError", "RequestTimeout"]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

function shape(err: unknown): SdkErrorShape {
  return typeof err === "object" && err !== null ? (err as SdkErrorShape) : {};
}

/** The HTTP status an SDK error carries, if it got an answer. */
export function httpStatusOf(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** True when the object (or its bucket) does not exist. */
export function isS3NotFound(err: unknown): boolean {
  const e = shape(err);
  return (
    e.name === "NoSuchKey" ||
    e.name === "NotFound" ||
    e.name === "NoSuchBucket" ||
    httpStatusOf(err) === 404
  );
}

/** True when a conditional request was refused (If-Match / If-None-Match not met). */
export function isPreconditionFailed(err: unknown): boolean {
  const e = shape(err);
  const status = httpStatusOf(err);
  return (
    e.name === "PreconditionFailed" ||
    e.name === "ConditionalRequestConflict" ||
    status === 412 ||
    status === 409
  );
}

/** True when a ranged GET started past the end of the object. */
export function isRangeNotSatisfiable(err: unknown): boolean {
  return shape(err).name === "InvalidRange" || httpStatusOf(err) === 416;
}

function objectName(w: S3Where): string {
  return w.key === undefined ? `s3://${w.bucket}` : `s3://${w.bucket}/${w.key}`;
}

/**
 * `err` (thrown by the SDK after its retries) as an EngineError: E_SUPERCHUNK_MISSING
 * for a missing object, E_TIMEOUT when the endpoint stopped answering, E_IO when it
 * cannot be reached, E_UNREADABLE when access is denied, E_HTTP for other answers.
 */
export function wrapS3Error(err: unknown, what: string, w: S3Where): EngineError {
  const e = shape(err);
  const status = httpStatusOf(err);
  const data = { ...w, path: objectName(w), status, attempts: e.$metadata?.attempts };
  const detail = e.message ?? String(err);
  const at = `${objectName(w)} at ${w.endpoint}`;
  if (isS3NotFound(err)) {
    return new NotFoundError("E_SUPERCHUNK_MISSING", `${at}: missing (${what})`, data, err);
  }
  const code = e.code ?? e.name ?? "";
  if (TIMEOUT_CODES.has(code) || TIMEOUT_CODES.has(e.name ?? "")) {
    return new IoError("E_TIMEOUT", `${at}: ${what} timed out: ${detail}`, data, err);
  }
  if (NETWORK_CODES.has(code) || (status === undefined && /ECONN|socket|network/i.test(detail))) {
    return new IoError("E_IO", `${at}: ${what}: endpoint unreachable (${detail})`, data, err);
  }
  if (status === 403) {
    return new IoError("E_UNREADABLE", `${at}: ${what}: access denied (${detail})`, data, err);
  }
  if (status !== undefined) {
    return new IoError("E_HTTP", `${at}: ${what}: HTTP ${status} ${e.name ?? ""}`, data, err);
  }
  return new IoError("E_IO", `${at}: ${what} failed: ${detail}`, data, err);
}
