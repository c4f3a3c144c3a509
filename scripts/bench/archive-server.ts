/**
 * The HTTP side of the superchunk-http row: a local nginx (test/helpers/nginx.ts) serving
 * the tool's work folder while its reads run, and the byte counts the mount reports.
 */

import { readFileSync } from "node:fs";
import { startNginx } from "../../test/helpers/nginx.js";
import { ARCHIVE_NAME, type ToolPaths } from "./packers.js";

/** Runs `fn` while nginx serves `paths.work`, with `archiveUrl` set to the archive's URL. */
export async function withArchiveServer<T>(
  paths: ToolPaths,
  fn: (p: ToolPaths) => Promise<T>,
): Promise<T> {
  const nginx = await startNginx(paths.work);
  try {
    return await fn({ ...paths, archiveUrl: nginx.url(ARCHIVE_NAME) });
  } finally {
    await nginx.stop();
  }
}

/**
 * The bytes a superchunk mount fetched from its archive, from the line it logs when it
 * unmounts ("..., fetched N bytes in M requests (R retries)"); null when there is none.
 */
export function fetchedFromMountLog(logFile: string): { bytes: number; requests: number } | null {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return null;
  }
  const m = /fetched (\d+) bytes in (\d+) requests/.exec(text);
  return m ? { bytes: Number(m[1]), requests: Number(m[2]) } : null;
}
