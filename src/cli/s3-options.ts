/**
 * The S3 options a command takes from `--endpoint URL` and `--path-style`, with the
 * AWS_* settings read from the command's environment.
 */
import type { S3Options } from "../blobstore/s3-client.js";
import type { CliIO } from "./cli-io.js";

/** Parsed values that may hold the S3 flags. */
export interface S3Flags {
  endpoint?: string | boolean | undefined;
  "path-style"?: string | boolean | undefined;
}

/** S3Options from `--endpoint` / `--path-style` and `io.env`. */
export function s3Options(values: S3Flags, io: CliIO): S3Options {
  return {
    env: io.env,
    ...(typeof values.endpoint === "string" ? { endpoint: values.endpoint } : {}),
    ...(values["path-style"] === true ? { forcePathStyle: true } : {}),
  };
}
