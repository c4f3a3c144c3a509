/**
 * What a mount needs from this machine, checked before anything is opened: the FUSE device,
 * fusermount3 for a user other than root (libfuse mounts and unmounts through it; root mounts
 * directly), and the native binding with libfuse 3. Each missing piece is one E_NO_FUSE error
 * naming what to install. Nothing here runs for the commands that do not mount.
 */
import { constants as fsc } from "node:fs";
import { access } from "node:fs/promises";
import * as path from "node:path";
import { UnsupportedError } from "../errors.js";
import { FUSE_INSTALL_HINT, loadNativeAddon } from "./native-addon.js";

/** Where to look for programs, and who runs them. */
export interface FuseRuntimeEnv {
  /** the search path (PATH) */
  readonly path: string | undefined;
  /** the effective user id */
  readonly uid: number;
}

const here = (): FuseRuntimeEnv => ({ path: process.env.PATH, uid: process.getuid?.() ?? 0 });

/** Throws UnsupportedError E_NO_FUSE when this machine cannot serve FUSE mounts. */
export async function checkFuseAvailable(env: FuseRuntimeEnv = here()): Promise<void> {
  try {
    await access("/dev/fuse", fsc.R_OK | fsc.W_OK);
  } catch (err) {
    throw new UnsupportedError(
      "E_NO_FUSE",
      "FUSE is not available: cannot open /dev/fuse (load the fuse kernel module: modprobe fuse)",
      { device: "/dev/fuse" },
      err,
    );
  }
  await checkFusermount(env);
  loadNativeAddon();
}

/** E_NO_FUSE when a user other than root has no fusermount3 on the search path. */
export async function checkFusermount(env: FuseRuntimeEnv): Promise<void> {
  if (env.uid === 0) return;
  if ((await findProgram("fusermount3", env.path)) !== undefined) return;
  throw new UnsupportedError(
    "E_NO_FUSE",
    `mount needs fusermount3, which is not installed: install it with '${FUSE_INSTALL_HINT}'`,
    { program: "fusermount3", install: FUSE_INSTALL_HINT },
  );
}

/** The first executable `name` in the directories of `searchPath`, or undefined. */
export async function findProgram(
  name: string,
  searchPath: string | undefined,
): Promise<string | undefined> {
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const file = path.join(dir, name);
    try {
      await access(file, fsc.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}
