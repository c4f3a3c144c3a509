/**
 * Shell-style patterns over '/'-separated relative paths, the one place that compiles
 * them: `*` and `?` stop at '/', `**` crosses directories, `[...]` and `{a,b}` as in a
 * shell; names starting with '.' match like any other. Used by extract for the paths it
 * is given and by pack for `--exclude`.
 */
import picomatch from "picomatch";

const OPTIONS: picomatch.PicomatchOptions = { dot: true };

/** True when `pattern` holds glob syntax (`*`, `?`, `[...]`, `{a,b}`, extglobs). */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

/** A test of whole relative paths ("a/b/c", no leading '/') against `pattern`. */
export function globMatcher(pattern: string): (rel: string) => boolean {
  return picomatch(pattern, OPTIONS);
}

/** One entry a walk offers to an exclude test. */
export interface ExcludeCandidate {
  /** path relative to the source root, '/'-separated */
  readonly rel: string;
  /** last component of `rel` */
  readonly name: string;
  readonly isDir: boolean;
}

/**
 * The exclude test of a list of patterns, rsync and borg style: a pattern without '/' is
 * matched against the name at any depth (`*.o`, `node_modules`); a pattern with '/' is
 * matched against the whole path from the source root (`build/*`, `src/**\/*.tmp`; a
 * leading '/' or './' changes nothing); a trailing '/' matches directories only
 * (`cache/`). Blank patterns are ignored. Undefined when no pattern is left.
 */
export function excludeMatcher(
  patterns: readonly string[],
): ((c: ExcludeCandidate) => boolean) | undefined {
  const tests = patterns.flatMap((p) => {
    const t = compileExclude(p);
    return t === undefined ? [] : [t];
  });
  if (tests.length === 0) return undefined;
  return (c) => tests.some((t) => t(c));
}

function compileExclude(raw: string): ((c: ExcludeCandidate) => boolean) | undefined {
  if (raw.trim().length === 0) return undefined;
  let p = raw;
  const dirOnly = p.length > 1 && p.endsWith("/");
  p = p.replace(/\/+$/, "");
  const anchored = p.startsWith("/") || p.startsWith("./");
  p = p.replace(/^(\.\/|\/)+/, "");
  if (p.length === 0) return undefined;
  const match = picomatch(p, OPTIONS);
  const byPath = anchored || p.includes("/");
  return (c) => (!dirOnly || c.isDir) && match(byPath ? c.rel : c.name);
}

/**
 * The patterns of an exclude file's text: one per line; blank lines and lines whose first
 * non-blank character is '#' are skipped; a trailing '\r' is dropped.
 */
export function patternLines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim().length > 0 && !l.trimStart().startsWith("#"));
}
