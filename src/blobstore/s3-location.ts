/**
 * S3 locations: `s3://bucket/prefix` names a store whose objects live in `bucket`
 * under `prefix/` (an empty prefix: at the bucket's top level).
 */
import { UsageError } from "../errors.js";

/** A parsed `s3://bucket/prefix`. */
export interface S3Location {
  readonly bucket: string;
  /** without leading or trailing slashes; "" for the bucket's top level */
  readonly prefix: string;
}

/** True when `location` is an `s3://` URL. */
export function isS3Location(location: string): boolean {
  return /^s3:\/\//i.test(location);
}

/**
 * Parses `s3://bucket[/prefix]`. E_USAGE when the bucket name is not one S3 accepts
 * (3-63 characters: lower-case letters, digits, dots, hyphens) or the prefix holds
 * an empty, "." or ".." segment.
 */
export function parseS3Location(location: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(location);
  const bucket = m?.[1] ?? "";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError("E_USAGE", `${location}: not an s3://bucket/prefix location`, {
      path: location,
    });
  }
  const prefix = (m?.[2] ?? "").replace(/\/+$/, "");
  if (prefix !== "" && prefix.split("/").some((p) => p === "" || p === "." || p === "..")) {
    throw new UsageError("E_USAGE", `${location}: bad prefix ${JSON.stringify(prefix)}`, {
      path: location,
    });
  }
  return { bucket, prefix };
}

/** The `s3://bucket/prefix` form of a location. */
export function formatS3Location(loc: S3Location): string {
  return loc.prefix === "" ? `s3://${loc.bucket}` : `s3://${loc.bucket}/${loc.prefix}`;
}
