/**
 * The tools the benchmark compares, by id: superchunk in two orders and the peers a user
 * would pick instead. Pure data; the commands live in packers.ts and mounts.ts.
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
  "borg",
  "zpaq",
  "tar-xz",
  "tar-zstd",
] as const;

/** One of {@link TOOL_IDS}. */
export type ToolId = (typeof TOOL_IDS)[number];

/** The rows whose store lives in the bench's S3 gateway, in report order. */
export const S3_TOOL_IDS: readonly ToolId[] = ["superchunk-s3", "superchunk-s3-rtt"];

/** How a tool's output is served for the read columns, or null when it cannot be mounted. */
export type MountKind = "superchunk" | "squashfuse" | "borg" | null;

/** Static facts about a tool. */
export interface ToolInfo {
  readonly id: ToolId;
  /** Label printed in the table. */
  readonly label: string;
  /** True for superchunk's own rows (the ones compared against the peers). */
  readonly ours: boolean;
  readonly mount: MountKind;
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
  borg: { id: "borg", label: "borg 32K lzma-6 + borg mount", ours: false, mount: "borg" },
  zpaq: { id: "zpaq", label: "zpaq -m3", ours: false, mount: null },
  "tar-xz": { id: "tar-xz", label: "tar | xz -9", ours: false, mount: null },
  "tar-zstd": { id: "tar-zstd", label: "tar | zstd -19 --long=27", ours: false, mount: null },
};

/** Peer whose pack time superchunk's is divided by. */
export const PACK_REFERENCE: ToolId = "sqfs-zstd";
/** Peer whose read times superchunk's are divided by. */
export const READ_REFERENCE: ToolId = "sqfs-zstd";

/** True when `id` names a tool. */
export function isToolId(id: string): id is ToolId {
  return (TOOL_IDS as readonly string[]).includes(id);
}
