/**
 * Unmounting a FUSE file system from outside its server: `fusermount3 -u` (libfuse 3's
 * helper, Debian package `fuse3`), else libfuse 2's `fusermount -u`, else `umount` (root
 * only). `-z` / `-l` make it lazy. The first helper that exists answers; its failure is final.
 */
import { execFile } from "node:child_process";

/** One way to unmount: the program and its arguments. */
export interface UnmountCommand {
  file: string;
  args: string[];
}

/** The commands to try, in order, for `mountpoint`. */
export function unmountCommands(mountpoint: string, lazy: boolean): UnmountCommand[] {
  const fuse = lazy ? ["-u", "-z", "--", mountpoint] : ["-u", "--", mountpoint];
  return [
    { file: "fusermount3", args: fuse },
    { file: "fusermount", args: fuse },
    { file: "umount", args: lazy ? ["-l", mountpoint] : [mountpoint] },
  ];
}

/** Failure of the helper that ran: its stderr (trimmed) and the process error. */
export interface UnmountFailure {
  stderr: string;
  error: Error;
}

/**
 * Runs the first unmount helper installed; resolves undefined on success, else its failure.
 * @example
 * const failed = await runUnmount("/mnt/x", true);
 */
export async function runUnmount(
  mountpoint: string,
  lazy: boolean,
): Promise<UnmountFailure | undefined> {
  let last: UnmountFailure | undefined;
  for (const c of unmountCommands(mountpoint, lazy)) {
    last = await new Promise<UnmountFailure | undefined>((resolve) => {
      execFile(c.file, c.args, (err, _stdout, stderr) =>
        resolve(err ? { stderr: String(stderr).trim(), error: err } : undefined),
      );
    });
    if ((last?.error as NodeJS.ErrnoException | undefined)?.code !== "ENOENT") return last;
  }
  return last;
}
