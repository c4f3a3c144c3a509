/**
 * Reading the kernel's mount table (/proc/self/mountinfo) and the list of loop devices
 * (`losetup -n -l -O NAME,BACK-FILE`). Pure parsing, no I/O.
 */

/** Undoes the octal escapes (`\040` for a space, ...) of a mountinfo path field. */
export function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/** Mount points listed in the text of /proc/self/mountinfo (fifth field of each line). */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const field = line.split(" ")[4];
    if (field !== undefined) points.push(unescapeMountPath(field));
  }
  return points;
}

/** Mount points equal to `dir` or below it, deepest first (the order to unmount them in). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return parseMountPoints(mountinfo)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/**
 * Loop devices of a `losetup -n -l -O NAME,BACK-FILE` listing whose backing file is `dir`
 * or below it (a deleted backing file, shown with a ` (deleted)` suffix, counts too).
 */
export function loopsBackedUnder(listing: string, dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const found: string[] = [];
  for (const line of listing.split("\n")) {
    const m = /^(\S+)\s+(.+?)(?: \(deleted\))?\s*$/.exec(line);
    if (m === null) continue;
    const back = m[2]!;
    if (back === dir || back.startsWith(prefix)) found.push(m[1]!);
  }
  return found;
}
