/**
 * Installing the peer tools the benchmark compares against, from Debian's packages.
 */

import { IoError } from "../../src/errors.js";
import { runProcess } from "./spawn.js";

/**
 * Debian packages the benchmark needs: the peers, FUSE, GNU time for peak RSS, and
 * mkfs.erofs (Debian 12's erofs-utils 1.5 compresses with lz4 or lz4hc only).
 */
export const PEER_PACKAGES = [
  "squashfs-tools",
  "squashfuse",
  "borgbackup",
  "zpaq",
  "xz-utils",
  "zstd",
  "fuse3",
  "libfuse2",
  "time",
  "bindfs",
  "erofs-utils",
] as const;

/** True when dpkg reports `pkg` as installed. */
async function isInstalled(pkg: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
  const r = await runProcess("dpkg-query", ["-W", "-f=${Status}", pkg]);
  return r.code === 0 && r.stdout.includes("install ok installed");
}

async function aptInstall(pkgs: readonly string[]): Promise<boolean> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const r = await runProcess("apt-get", ["install", "-y", ...pkgs], { env, inherit: true });
  return r.code === 0;
}

/**
 * Installs whichever of {@link PEER_PACKAGES} are missing with `apt-get install -y`,
 * running `apt-get update` and trying once more when the first install fails.
 * Throws IoError E_IO when they still cannot be installed.
 */
export async function ensurePeers(log: (line: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const pkg of PEER_PACKAGES) if (!(await isInstalled(pkg))) missing.push(pkg);
  if (missing.length === 0) {
    log(`peers: all installed (${PEER_PACKAGES.join(" ")})`);
    return;
  }
  log(`peers: installing ${missing.join(" ")}`);
  if (await aptInstall(missing)) return;
  log("peers: install failed; apt-get update, then again");
  await runProcess("apt-get", ["update"], { inherit: true });
  if (await aptInstall(missing)) return;
  throw new IoError("E_IO", `apt-get install -y ${missing.join(" ")} failed (are you root?)`, {
    missing,
  });
}
