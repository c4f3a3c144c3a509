/**
 * The command lines of every tool: how it packs the corpus and how its output is mounted.
 * Pure: paths in, commands out.
 */

import { join } from "node:path";
import type { ToolId } from "./catalogue.js";
import type { Command } from "./command.js";
import type { MountSpec } from "./mount-session.js";

/** Where things are for one tool. */
export interface ToolPaths {
  /** The corpus root being packed. */
  readonly corpus: string;
  /** This tool's own empty folder in the scratch directory. */
  readonly work: string;
  /** superchunk's compiled CLI (dist/src/cli/main.js). */
  readonly cli: string;
  /** The node binary. */
  readonly node: string;
  /** The URL this tool's archive is served at, while a server runs (superchunk-http). */
  readonly archiveUrl?: string;
  /** The S3 store this tool packs to and mounts, while a gateway runs (superchunk-s3, -s3-rtt). */
  readonly s3?: S3Target;
}

/** Where an S3 row's store goes, and how the CLI reaches it. */
export interface S3Target {
  /** s3://bucket/prefix */
  readonly location: string;
  /** the gateway's endpoint URL, given as --endpoint */
  readonly endpoint: string;
  /** AWS_* credentials for the CLI, added to its environment */
  readonly env: Readonly<Record<string, string>>;
}

/** Name of the archive superchunk-zip and superchunk-http write in their work folder. */
export const ARCHIVE_NAME = "store.zip";

/** The commands that pack, in order, and the file or folder whose size is the result. */
export interface PackPlan {
  readonly steps: readonly Command[];
  readonly output: string;
}

/** mkfs.erofs options: the strongest compressor Debian 12's erofs-utils 1.5 has, 1 MiB physical clusters. */
export const EROFS_OPTIONS = ["--quiet", "-zlz4hc,12", "-C1048576"] as const;

/** Environment for borg: no prompts, and its cache and config inside the scratch folder. */
export function borgEnv(work: string): Record<string, string> {
  return {
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: "yes",
    BORG_RELOCATED_REPO_ACCESS_IS_OK: "yes",
    BORG_PASSPHRASE: "",
    BORG_BASE_DIR: join(work, "borg-home"),
  };
}

function tarPipe(corpus: string, out: string, compressor: string): Command {
  const script = `set -o pipefail; tar cf - -C "$1" . | ${compressor} > "$2"`;
  return { cmd: "bash", args: ["-c", script, "bash", corpus, out] };
}

/** How tool `id` packs `p.corpus`. */
export function packPlan(id: ToolId, p: ToolPaths): PackPlan {
  const out = (name: string) => join(p.work, name);
  const sqfs = (comp: readonly string[]) => ({
    steps: [
      { cmd: "mksquashfs", args: [p.corpus, out("out.sqfs"), ...comp, "-b", "1M", "-noappend"] },
    ],
    output: out("out.sqfs"),
  });
  const cliPack = (extra: readonly string[], name = "store") => ({
    steps: [{ cmd: p.node, args: [p.cli, "pack", p.corpus, out(name), "--json", ...extra] }],
    output: out(name),
  });
  switch (id) {
    case "superchunk":
      return cliPack([]);
    case "superchunk-path":
      return cliPack(["--order", "path"]);
    case "superchunk-zip":
    case "superchunk-http":
      return cliPack([], ARCHIVE_NAME);
    case "superchunk-s3":
    case "superchunk-s3-rtt":
      return s3Plan(p);
    case "sqfs-xz":
      return sqfs(["-comp", "xz"]);
    case "sqfs-zstd":
    case "sqfs-zstd-kernel": // used only when sqfs-zstd's image is not there to share
      return sqfs(["-comp", "zstd", "-Xcompression-level", "19"]);
    case "erofs":
      return {
        steps: [{ cmd: "mkfs.erofs", args: [...EROFS_OPTIONS, out("out.erofs"), p.corpus] }],
        output: out("out.erofs"),
      };
    case "borg":
      return borgPlan(p);
    case "zpaq":
      return {
        steps: [{ cmd: "zpaq", args: ["a", out("out.zpaq"), p.corpus, "-m3"] }],
        output: out("out.zpaq"),
      };
    case "tar-xz":
      return {
        steps: [tarPipe(p.corpus, out("out.tar.xz"), "xz -9 -T0")],
        output: out("out.tar.xz"),
      };
    case "tar-zstd":
      return {
        steps: [tarPipe(p.corpus, out("out.tar.zst"), "zstd -q -19 --long=27 -T0")],
        output: out("out.tar.zst"),
      };
  }
}

/** Packs to the S3 store; without a gateway (no `p.s3`) a step that fails saying so. */
function s3Plan(p: ToolPaths): PackPlan {
  if (p.s3 === undefined) {
    const say = "echo 'no S3 gateway running' >&2; exit 1";
    return { steps: [{ cmd: "sh", args: ["-c", say] }], output: p.work };
  }
  const { location, endpoint, env } = p.s3;
  const args = [p.cli, "pack", p.corpus, location, "--json", "--endpoint", endpoint];
  return { steps: [{ cmd: p.node, args, env }], output: location };
}

function borgPlan(p: ToolPaths): PackPlan {
  const repo = join(p.work, "repo");
  const env = borgEnv(p.work);
  const chunker = ["--chunker-params", "buzhash,14,18,15,4095", "-C", "lzma,6"];
  return {
    steps: [
      { cmd: "borg", args: ["init", "-e", "none", repo], env },
      { cmd: "borg", args: ["create", ...chunker, `${repo}::corpus`, "."], env, cwd: p.corpus },
    ],
    output: repo,
  };
}

/** How tool `id`'s output is mounted (in the foreground) on `mnt`, or null if it has no mount. */
export function mountSpec(id: ToolId, p: ToolPaths, mnt: string): MountSpec | null {
  switch (id) {
    case "superchunk":
    case "superchunk-path":
      return {
        // the read columns measure read-only serving (a store directory mounts read-write by default)
        mount: {
          cmd: p.node,
          args: [p.cli, "mount", join(p.work, "store"), mnt, "--read-only", "--foreground"],
        },
        unmount: { cmd: p.node, args: [p.cli, "umount", mnt] },
      };
    case "superchunk-zip":
    case "superchunk-http": {
      const store = id === "superchunk-zip" ? join(p.work, ARCHIVE_NAME) : p.archiveUrl;
      if (store === undefined) return null;
      return {
        mount: { cmd: p.node, args: [p.cli, "mount", store, mnt, "--foreground"] },
        unmount: { cmd: p.node, args: [p.cli, "umount", mnt] },
      };
    }
    case "superchunk-s3":
    case "superchunk-s3-rtt": {
      if (p.s3 === undefined) return null;
      const { location, endpoint, env } = p.s3;
      const args = [p.cli, "mount", location, mnt, "--read-only", "--foreground"];
      return {
        mount: { cmd: p.node, args: [...args, "--endpoint", endpoint], env },
        unmount: { cmd: p.node, args: [p.cli, "umount", mnt] },
      };
    }
    case "sqfs-xz":
    case "sqfs-zstd":
      return { mount: { cmd: "squashfuse", args: ["-f", join(p.work, "out.sqfs"), mnt] } };
    case "sqfs-zstd-kernel":
      return kernelMount("squashfs", join(p.work, "out.sqfs"), mnt);
    case "erofs":
      return kernelMount("erofs", join(p.work, "out.erofs"), mnt);
    case "borg":
      return {
        mount: {
          cmd: "borg",
          args: ["mount", "-f", `${join(p.work, "repo")}::corpus`, mnt],
          env: borgEnv(p.work),
        },
      };
    default:
      return null;
  }
}

/**
 * A read-only loop mount of `image` by the kernel's own `fsType` driver. `mount` exits once
 * mounted; after `umount` (which frees an auto-cleared loop device) any loop device still
 * backed by the image is detached.
 */
export function kernelMount(fsType: string, image: string, mnt: string): MountSpec {
  const detach = 'losetup -n -O NAME -j "$1" | xargs -r -n1 losetup -d';
  return {
    mount: { cmd: "mount", args: ["-t", fsType, "-o", "loop,ro", image, mnt] },
    unmount: { cmd: "umount", args: [mnt] },
    cleanup: { cmd: "sh", args: ["-c", detach, "sh", image] },
    exitWaitMs: 1000,
  };
}

/**
 * The JSON object a command printed: the whole output if it parses, else the last line that
 * is a JSON object (progress lines may come before it). Null when there is none.
 */
export function extractJsonObject(text: string): Record<string, unknown> | null {
  const candidates = [
    text.trim(),
    ...text
      .split("\n")
      .reverse()
      .map((l) => l.trim()),
  ];
  for (const c of candidates) {
    if (!c.startsWith("{")) continue;
    try {
      const v: unknown = JSON.parse(c);
      if (v !== null && typeof v === "object" && !Array.isArray(v))
        return v as Record<string, unknown>;
    } catch {
      // not this one
    }
  }
  return null;
}
