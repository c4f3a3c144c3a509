/**
 * `superchunk mount`: the flags, their parsing into {@link MountArgs}, and the opening and
 * mounting of a store. Serving is mount-server.ts's (with --foreground); without it,
 * mount-daemon.ts starts a server in the background with the same arguments.
 */
import * as path from "node:path";
import { type OpenedMount, openAndMount } from "../api/mount-open.js";
import { UsageError } from "../errors.js";
import { resolveStoreLocation } from "../location/store-kind.js";
import { COMPACT_IDLE_MS } from "../writer/index.js";
import { parseCommandArgs, parseInteger, parseSize } from "./args.js";
import { type CliIO, type Command, EXIT } from "./cli-io.js";
import { startBackground } from "./mount-daemon.js";
import { followOptions, followSecondsOf } from "./mount-follow.js";
import { type ServeHooks, serveForeground } from "./mount-server.js";

const usage = `Usage: superchunk mount <store> <mountpoint> [options]

Serves a store as a file system through FUSE. Returns once the mount is ready
and keeps serving from a background process; 'superchunk umount <mountpoint>'
stops it (and waits until every write is committed). The mountpoint must be an
existing empty directory. Every mount is read-only unless --read-write (-w) is
given: writes get EROFS and nothing in the store changes (no file, lock or
database write). <store> is a store directory (read-write with -w: it holds the
store's writer lock while mounted), an archive written by 'superchunk seal' or the
http(s) URL of one (always read-only; URLs are read with Range requests, bytes
fetched are logged at unmount), or a store in an S3-compatible object store,
s3://bucket/prefix (read-only: the generation its pointer names when mounted;
with -w one writer at a time holds the store's lease; changes are committed to a
local work directory, and published as a new generation once the mount has been
quiet for 2 s, at least every minute, and at unmount); endpoint, region and
credentials from --endpoint or the AWS_* environment: AWS_ENDPOINT_URL,
AWS_REGION, AWS_ACCESS_KEY_ID, AWS_PROFILE, ...).

Options:
  -w, --read-write     mount read-write: a store directory (takes the writer's
                       lock) or an s3:// store (takes the writer's lease)
  --read-only          the default; accepted so scripts may say so
  --work-dir DIR       s3:// read-write: the local work directory (default
                       $XDG_CACHE_HOME/superchunk/s3/<id>, kept for crash recovery)
  --publish-idle SECS  s3:// read-write: quiet time before a generation is
                       published (default 2)
  --compact-idle SECS  store directories with -w: quiet time before the super-chunks the
                       mount wrote are regrouped by similarity and recompressed at
                       the store's level, in the background (default 5; 0 turns
                       compaction off: \`repack --all\` does it). Also done after
                       the unmount: 'umount' returns once every write is committed
                       and the server compacts on alone, stopping as soon as anyone
                       opens the store (a mount, extract, fsck, ...)
  --follow             s3:// read-only: serve each newer generation once a poll of
                       the store's pointer sees it, without remounting (the kernel
                       caches names and attributes for 1 s only, file pages not at all)
  --follow-interval SECS
                       seconds between polls with --follow (default 10)
  --endpoint URL       s3:// stores: the S3 endpoint (path-style addressing)
  --path-style         s3:// stores: path-style addressing without --endpoint
  --http-timeout SECS  http(s) archives: a request idle this long fails (default 30)
  --http-retries N     http(s) archives: retries of a failed request (default 4)
  --cache-size SIZE    memory for the mount's caches, e.g. 256M, 2G (default 512M):
                       inflated super-chunks get what the database (in memory for a
                       packed store) and the listings leave
  --fetch-ahead SIZE   s3:// stores and http(s) archives: memory for compressed
                       super-chunks fetched ahead of the reads, many requests at a
                       time, to hide the network's latency (default 32M; 0 turns it off)
  --foreground         serve from this process, attached, instead of starting a
                       background server; unmount cleanly on Ctrl-C (SIGINT) or SIGTERM
  -o OPTIONS           extra FUSE options, comma separated: allow_other, allow_root,
                       nonempty, max_read=N, ... (may be repeated)
  --debug              trace every FUSE request on stderr (in the background: the log)
  --op-stats           at unmount, print the requests served by op (count, time from
                       hand-off to answer, bytes) and the working set's loads
  -h, --help           show this help

The background server logs to a file in the run directory ($SUPERCHUNK_RUN_DIR,
/run/superchunk for root, else $XDG_RUNTIME_DIR/superchunk); its path is printed.`;

/** The parsed command line of `mount`. */
export interface MountArgs {
  readonly store: string;
  readonly mountpoint: string;
  readonly cacheBytes: number;
  /** remote stores: --fetch-ahead in bytes, when given */
  readonly fetchAheadBytes: number | undefined;
  readonly foreground: boolean;
  readonly fuseOptions: readonly string[];
  readonly debug: boolean;
  /** --op-stats: print the requests served at unmount */
  readonly opStats: boolean;
  /** --read-only: the default, accepted (E_USAGE with --read-write) */
  readonly readOnly: boolean;
  /** --read-write (-w): store directories and s3:// stores; the s3 work directory when given */
  readonly readWrite: boolean;
  readonly workDir: string | undefined;
  readonly publishIdleMs: number | undefined;
  /** store directories: --compact-idle in ms (0: no compaction) */
  readonly compactIdleMs: number;
  /** s3:// read-only: --follow, seconds between polls of the pointer; else undefined */
  readonly followSeconds: number | undefined;
  /** s3:// stores: endpoint given on the command line */
  readonly endpoint: string | undefined;
  /** s3:// stores: --path-style */
  readonly pathStyle: boolean;
  /** http(s) archives: --http-timeout in ms and --http-retries, when given */
  readonly httpTimeoutMs: number | undefined;
  readonly httpRetries: number | undefined;
}

function parseMountArgs(args: string[]): MountArgs | undefined {
  const { values, positionals } = parseCommandArgs(args, {
    "read-only": { type: "boolean" },
    "read-write": { type: "boolean", short: "w" },
    "work-dir": { type: "string" },
    "publish-idle": { type: "string" },
    "compact-idle": { type: "string" },
    "cache-size": { type: "string" },
    "fetch-ahead": { type: "string" },
    foreground: { type: "boolean" },
    o: { type: "string", short: "o", multiple: true },
    debug: { type: "boolean" },
    "op-stats": { type: "boolean" },
    endpoint: { type: "string" },
    "path-style": { type: "boolean" },
    follow: { type: "boolean" },
    "follow-interval": { type: "string" },
    "http-timeout": { type: "string" },
    "http-retries": { type: "string" },
  });
  const timeout = values["http-timeout"];
  const retries = values["http-retries"];
  if (values.help) return undefined;
  if (positionals.length !== 2)
    throw new UsageError("E_USAGE", "mount needs <store-dir> and <mountpoint>");
  const fuseOptions = (values.o ?? []).flatMap((o) => o.split(",")).filter((o) => o !== "");
  return {
    store: resolveStoreLocation(positionals[0]!),
    mountpoint: path.resolve(positionals[1]!),
    cacheBytes: parseSize(values["cache-size"] ?? "512M", "--cache-size"),
    fetchAheadBytes:
      values["fetch-ahead"] === undefined
        ? undefined
        : parseSize(values["fetch-ahead"], "--fetch-ahead", { zero: true }),
    foreground: values.foreground === true,
    fuseOptions,
    debug: values.debug === true,
    opStats: values["op-stats"] === true,
    readOnly: values["read-only"] === true,
    readWrite: values["read-write"] === true,
    workDir: values["work-dir"] === undefined ? undefined : path.resolve(values["work-dir"]),
    publishIdleMs:
      values["publish-idle"] === undefined
        ? undefined
        : parseInteger(values["publish-idle"], "--publish-idle", 0, 86_400) * 1000,
    compactIdleMs:
      values["compact-idle"] === undefined
        ? COMPACT_IDLE_MS
        : parseInteger(values["compact-idle"], "--compact-idle", 0, 86_400) * 1000,
    followSeconds: followSecondsOf(values, positionals[0]!),
    endpoint: values.endpoint,
    pathStyle: values["path-style"] === true,
    httpTimeoutMs:
      timeout === undefined ? undefined : parseInteger(timeout, "--http-timeout", 1, 3600) * 1000,
    httpRetries:
      retries === undefined ? undefined : parseInteger(retries, "--http-retries", 0, 100),
  };
}

export const mountCommand: Command = {
  name: "mount",
  summary: "serve a store as a file system (FUSE)",
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseMountArgs(args);
    if (a === undefined) {
      io.stdout.write(`${usage}\n`);
      return EXIT.ok;
    }
    if (a.foreground) {
      return serveForeground(a.store, (h) => openMount(a, io, h), io, { opStats: a.opStats });
    }
    const nonEmpty = a.fuseOptions.includes("nonempty");
    return startBackground(args, { store: a.store, mountpoint: a.mountpoint, nonEmpty }, io);
  },
};

/** Opens and mounts the store as `a` says (api/mount-open.ts). */
function openMount(a: MountArgs, io: CliIO, hooks: ServeHooks): Promise<OpenedMount> {
  const log = (line: string) => io.stderr.write(`${line}\n`);
  return openAndMount({
    ...a,
    follow: a.followSeconds === undefined ? undefined : followOptions(a.followSeconds, log),
    s3: {
      env: io.env,
      ...(a.endpoint === undefined ? {} : { endpoint: a.endpoint }),
      ...(a.pathStyle ? { forcePathStyle: true } : {}),
    },
    http: {
      ...(a.httpTimeoutMs === undefined ? {} : { timeoutMs: a.httpTimeoutMs }),
      ...(a.httpRetries === undefined ? {} : { retries: a.httpRetries }),
    },
    log,
    onCommitted: hooks.onCommitted,
  });
}
