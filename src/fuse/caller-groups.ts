/**
 * The supplementary groups of the process behind a FUSE request, read from
 * /proc/<pid>/status (`Groups:`), as libfuse's own fuse_getgroups does. Only chown needs them
 * (an owner may give a file to any group it is in), so they are read only then.
 */
import * as fs from "node:fs";

/** The groups of `pid` (a thread id works too); empty when the process is gone. */
export function callerGroups(pid: number): number[] {
  if (!Number.isInteger(pid) || pid <= 0) return [];
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return [];
  }
  const line = text.split("\n").find((l) => l.startsWith("Groups:"));
  if (line === undefined) return [];
  return line
    .slice("Groups:".length)
    .trim()
    .split(/\s+/)
    .filter((g) => g !== "")
    .map(Number);
}
