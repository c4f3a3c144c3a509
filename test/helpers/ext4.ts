/**
 * A small ext4 file system on a loop device, the reference a POSIX test compares a mount
 * with: the same steps run on both and their outputs must match. Root only (mount -o loop);
 * `ext4Mount` answers undefined (with the reason) where it cannot be made.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { IS_ROOT, tmpDir } from "./tree.js";

/** A mounted ext4 image; `close` unmounts it and removes the image. */
export interface Ext4Mount {
  readonly dir: string;
  close(): void;
}

/** Makes and mounts a 64 MiB ext4 image, or gives the reason it cannot. */
export function ext4Mount(): Ext4Mount | string {
  if (!IS_ROOT) return "needs root (mount -o loop)";
  const base = tmpDir("ext4");
  const image = path.join(base, "fs.img");
  const dir = path.join(base, "mnt");
  fs.mkdirSync(dir);
  fs.chmodSync(base, 0o755); // other users (uid 65534) must reach it
  fs.writeFileSync(image, "");
  fs.truncateSync(image, 64 * 2 ** 20);
  const mk = spawnSync("mkfs.ext4", ["-q", "-F", image], { encoding: "utf8" });
  if (mk.status !== 0) return `mkfs.ext4: ${mk.error?.message ?? mk.stderr}`;
  const mnt = spawnSync("mount", ["-o", "loop", image, dir], { encoding: "utf8" });
  if (mnt.status !== 0) return `mount -o loop: ${mnt.error?.message ?? mnt.stderr}`;
  fs.chmodSync(dir, 0o777);
  return {
    dir,
    close: () => {
      spawnSync("umount", [dir]);
      fs.rmSync(image, { force: true });
    },
  };
}
