/**
 * The S3 client a store uses, configured in one place: endpoint, region and
 * credentials from the options or the standard AWS sources, keep-alive sockets for
 * parallel ranged GETs, retries with backoff, and timeouts so a dead endpoint gives
 * an error instead of a hang.
 */
import * as http from "node:http";
import * as https from "node:https";
import { S3Client } from "@aws-sdk/client-s3";

/** How to reach an S3-compatible object store. Unset fields come from the AWS_* environment. */
export interface S3Options {
  /**
   * endpoint URL of an S3-compatible service (e.g. `http://127.0.0.1:7480`); default
   * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS S3 itself
   */
  endpoint?: string;
  /** region; default AWS_REGION or AWS_DEFAULT_REGION, else "us-east-1" */
  region?: string;
  /** path-style addressing (`endpoint/bucket/key`); default true when an endpoint is set */
  forcePathStyle?: boolean;
  /** ms to wait for a TCP connection; default 5000 */
  connectTimeoutMs?: number;
  /**
   * ms a request may wait without receiving anything (a whole request: 4 times that);
   * default 30000
   */
  timeoutMs?: number;
  /** attempts per request, the first included, with exponential backoff between; default 4 */
  maxAttempts?: number;
  /** keep-alive sockets to the endpoint, at most; default 32 */
  maxSockets?: number;
  /**
   * where AWS_* settings are read from; default process.env. Credentials come from
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) here when set, else
   * from the SDK's default chain (AWS_PROFILE and ~/.aws, instance roles, ...).
   */
  env?: NodeJS.ProcessEnv;
}

/** S3Options with every default applied. */
export interface S3Settings {
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxSockets: number;
  /** the endpoint, or "AWS S3 (<region>)", for messages */
  readonly endpointName: string;
}

export const S3_DEFAULTS = {
  region: "us-east-1",
  connectTimeoutMs: 5000,
  timeoutMs: 30_000,
  maxAttempts: 4,
  maxSockets: 32,
} as const;

/** A whole request may take this many times the idle timeout. */
const TOTAL_TIMEOUT_FACTOR = 4;

/** The settings `opts` stand for, defaults and environment applied. */
export function s3Settings(opts: S3Options = {}): S3Settings {
  const env = opts.env ?? process.env;
  const endpoint = opts.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? S3_DEFAULTS.region;
  return {
    endpoint: endpoint === "" ? undefined : endpoint,
    region,
    forcePathStyle: opts.forcePathStyle ?? (endpoint !== undefined && endpoint !== ""),
    connectTimeoutMs: opts.connectTimeoutMs ?? S3_DEFAULTS.connectTimeoutMs,
    timeoutMs: opts.timeoutMs ?? S3_DEFAULTS.timeoutMs,
    maxAttempts: opts.maxAttempts ?? S3_DEFAULTS.maxAttempts,
    maxSockets: opts.maxSockets ?? S3_DEFAULTS.maxSockets,
    endpointName: endpoint ? endpoint : `AWS S3 (${region})`,
  };
}

/** A client for `settings`; destroy() it to close its sockets. */
export function createS3Client(settings: S3Settings, env: NodeJS.ProcessEnv): S3Client {
  // package.json pins an SDK release that supports Node 20; its notice that later
  // releases will not would otherwise be printed by every command reaching S3
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const agent = { keepAlive: true, maxSockets: settings.maxSockets };
  const key = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  const credentials =
    key && secret
      ? {
          accessKeyId: key,
          secretAccessKey: secret,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    ...(credentials ? { credentials } : {}),
    maxAttempts: settings.maxAttempts,
    // streaming uploads to S3-compatible services (RGW) fail with the newer default checksums
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      // idle: nothing received for timeoutMs; total: a whole request, generously
      socketTimeout: settings.timeoutMs,
      requestTimeout: settings.timeoutMs * TOTAL_TIMEOUT_FACTOR,
      throwOnRequestTimeout: true,
      httpAgent: new http.Agent(agent),
      httpsAgent: new https.Agent(agent),
    },
  });
}
