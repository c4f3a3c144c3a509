/**
 * The tools the benchmark compares, by id: superchunk in two orders and the peers a user
 * would pick instead, and the kernel's own read-only file systems as the limit of the read
 * columns. Pure data; the commands live in packers.ts.
 */

/** Ids accepted by `--only`, in the order the tools run and the table lists them. */
export const TOOL_IDS = [
  "superchunk",
  "superchunk-path",
  "superchunk-zip",
  "superchunk-http",
  "superchunk-s3",
  "superchunk-s3-rtt",
  "sqfs-xz",
  "sqfs-zstd",
  "sqfs-zstd-kernel",
  "erofs",
  "borg",
  "zpaq",
  "tar-xz",
  "tar-zstd",
] as const;

/** One of {@link TOOL_IDS}. */
export type ToolId = (typeof TOOL_IDS)[number];

/** The rows whose store lives in the bench's S3 gateway, in report order. */
export const S3_TOOL_IDS: readonly ToolId[] = ["superchunk-s3", "superchunk-s3-rtt"];

/**
 * How a tool's output is served for the read columns (`kernel`: a read-only loop mount by
 * the kernel's own driver), or null when it cannot be mounted.
 */
export type MountKind = "superchunk" | "squashfuse" | "borg" | "kernel" | null;

/** Static facts about a tool. */
export interface ToolInfo {
  readonly id: ToolId;
  /** Label printed in the table. */
  readonly label: string;
  /** True for superchunk's own rows (the ones compared against the peers). */
  readonly ours: boolean;
  readonly mount: MountKind;
  /** The tool whose output this row reads too (it has no pack of its own). */
  readonly sharesImageOf?: ToolId;
}

/** Every tool, keyed by id. */
export const TOOLS: Readonly<Record<ToolId, ToolInfo>> = {
  superchunk: { id: "superchunk", label: "superchunk (default)", ours: true, mount: "superchunk" },
  "superchunk-path": {
    id: "superchunk-path",
    label: "superchunk --order path",
    ours: true,
    mount: "superchunk",
  },
  "superchunk-zip": {
    id: "superchunk-zip",
    label: "superchunk .zip archive (local file)",
    ours: true,
    mount: "superchunk",
  },
  "superchunk-http": {
    id: "superchunk-http",
    label: "superchunk .zip archive over HTTP (local nginx)",
    ours: true,
    mount: "superchunk",
  },
  "superchunk-s3": {
    id: "superchunk-s3",
    label: "superchunk S3 store (local Ceph RADOS Gateway)",
    ours: true,
    mount: "superchunk",
  },
  "superchunk-s3-rtt": {
    id: "superchunk-s3-rtt",
    label: "superchunk S3 store, 20 ms round trip (Ceph behind a delaying proxy)",
    ours: true,
    mount: "superchunk",
  },
  "sqfs-xz": {
    id: "sqfs-xz",
    label: "mksquashfs xz 1M + squashfuse",
    ours: false,
    mount: "squashfuse",
  },
  "sqfs-zstd": {
    id: "sqfs-zstd",
    label: "mksquashfs zstd-19 1M + squashfuse",
    ours: false,
    mount: "squashfuse",
  },
  "sqfs-zstd-kernel": {
    id: "sqfs-zstd-kernel",
    label: "kernel squashfs driver (same zstd-19 1M image, loop mount)",
    ours: false,
    mount: "kernel",
    sharesImageOf: "sqfs-zstd",
  },
  erofs: {
    id: "erofs",
    label:
      "mkfs.erofs lz4hc-12, 1 MiB pclusters (Debian 12 erofs-utils: lz4 or lz4hc only) + kernel",
    ours: false,
    mount: "kernel",
  },
  borg: { id: "borg", label: "borg 32K lzma-6 + borg mount", ours: false, mount: "borg" },
  zpaq: { id: "zpaq", label: "zpaq -m3", ours: false, mount: null },
  "tar-xz": { id: "tar-xz", label: "tar | xz -9", ours: false, mount: null },
  "tar-zstd": { id: "tar-zstd", label: "tar | zstd -19 --long=27", ours: false, mount: null },
};

/** Peer whose pack time superchunk's is divided by. */
export const PACK_REFERENCE: ToolId = "sqfs-zstd";
/** Peer whose read times superchunk's are divided by. */
export const READ_REFERENCE: ToolId = "sqfs-zstd";
/** The limit of the read columns: the kernel's driver on the same image as READ_REFERENCE. */
export const KERNEL_REFERENCE: ToolId = "sqfs-zstd-kernel";

/** True when `id` names a tool. */
export function isToolId(id: string): id is ToolId {
  return (TOOL_IDS as readonly string[]).includes(id);
}
