/**
 * `npm run corpus`: assembles the benchmark corpus, ten releases of the `typescript` npm
 * package, one folder per release (`typescript-5.9.3/` ...) under `.cache/corpus/`.
 * `npm run corpus -- kernel` assembles the kernel corpus instead (corpus-kernel.ts).
 *
 * Each release is fetched with `npm pack` into a temporary folder, unpacked there with the
 * tarball's `package/` prefix stripped, renamed into place, and then marked complete by a
 * small JSON file under `.cache/corpus-complete/` (outside the corpus, so no tool packs it).
 * A release whose marker matches its folder is skipped: running again is cheap.
 */

import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IoError } from "../src/errors.js";
import { assertSuccess, runProcess } from "./bench/spawn.js";
import { type TreeStats, treeStats } from "./bench/tree.js";
import { ensureKernelCorpus } from "./corpus-kernel.js";

/** The releases of `typescript` in the corpus, oldest first. */
export const CORPUS_VERSIONS = [
  "5.0.4",
  "5.1.6",
  "5.2.2",
  "5.3.3",
  "5.4.5",
  "5.5.4",
  "5.6.3",
  "5.7.3",
  "5.8.3",
  "5.9.3",
] as const;

/** The project root (scripts compile to dist/scripts/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Where `npm run corpus -- kernel` puts the two kernel trees. */
export const KERNEL_CORPUS_DIR = join(PROJECT_ROOT, ".cache", "corpus-kernel");

/** Options of {@link ensureCorpus}. */
export interface CorpusOptions {
  /** Where the release folders go (default `.cache/corpus` under the project root). */
  readonly dir?: string;
  /** Releases to make sure of (default all of {@link CORPUS_VERSIONS}). */
  readonly versions?: readonly string[];
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** The corpus after {@link ensureCorpus}: its folder and counts over the chosen releases. */
export interface CorpusSummary extends TreeStats {
  readonly dir: string;
  readonly versions: readonly string[];
}

interface Marker {
  readonly version: string;
  readonly files: number;
  readonly fileBytes: number;
  readonly integrity: string | null;
}

/** Folder name of a release inside the corpus. */
export function releaseFolder(version: string): string {
  return `typescript-${version}`;
}

function markerPath(dir: string, version: string): string {
  return join(`${dir}-complete`, `${releaseFolder(version)}.json`);
}

function isComplete(dir: string, version: string): boolean {
  const folder = join(dir, releaseFolder(version));
  const marker = markerPath(dir, version);
  if (!existsSync(marker) || !existsSync(folder)) return false;
  try {
    const m = JSON.parse(readFileSync(marker, "utf8")) as Marker;
    const now = treeStats(folder);
    return m.files === now.files && m.fileBytes === now.fileBytes;
  } catch {
    return false;
  }
}

/** Runs `npm pack typescript@<version>` in `tmp`; returns the tarball path and its integrity. */
async function npmPack(
  version: string,
  tmp: string,
): Promise<{ tarball: string; integrity: string | null }> {
  const spec = `typescript@${version}`;
  const r = await runProcess("npm", ["pack", spec, "--json", "--pack-destination", tmp], {
    cwd: tmp,
  });
  assertSuccess(`npm pack ${spec}`, r);
  let info: { filename?: string; integrity?: string }[];
  try {
    info = JSON.parse(r.stdout) as typeof info;
  } catch (e) {
    throw new IoError(
      "E_IO",
      `npm pack ${spec}: output is not JSON`,
      { stdout: r.stdout.slice(0, 500) },
      e,
    );
  }
  const filename = info[0]?.filename;
  if (filename === undefined || !existsSync(join(tmp, filename))) {
    throw new IoError("E_IO", `npm pack ${spec}: no tarball written`, { tmp });
  }
  return { tarball: join(tmp, filename), integrity: info[0]?.integrity ?? null };
}

/** Unpacks `tarball` into `dest`, stripping its `package/` prefix (which every entry must have). */
async function unpack(tarball: string, dest: string): Promise<void> {
  const list = await runProcess("tar", ["tzf", tarball]);
  assertSuccess(`tar tzf ${tarball}`, list);
  const stray = list.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("package/"));
  if (stray.length > 0) {
    throw new IoError(
      "E_IO",
      `${tarball}: entries outside package/: ${stray.slice(0, 3).join(", ")}`,
      { tarball },
    );
  }
  mkdirSync(dest, { recursive: true });
  assertSuccess(
    `tar xzf ${tarball}`,
    await runProcess("tar", ["xzf", tarball, "-C", dest, "--strip-components=1"]),
  );
}

/** Fetches one release into `dir` through a temporary folder, then writes its marker. */
async function fetchRelease(dir: string, version: string): Promise<TreeStats> {
  const tmp = join(`${dir}-tmp`, `${version}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const { tarball, integrity } = await npmPack(version, tmp);
    const tree = join(tmp, "tree");
    await unpack(tarball, tree);
    const stats = treeStats(tree);
    const folder = join(dir, releaseFolder(version));
    rmSync(folder, { recursive: true, force: true });
    renameSync(tree, folder);
    const marker: Marker = { version, files: stats.files, fileBytes: stats.fileBytes, integrity };
    mkdirSync(dirname(markerPath(dir, version)), { recursive: true });
    writeFileSync(`${markerPath(dir, version)}.tmp`, `${JSON.stringify(marker)}\n`);
    renameSync(`${markerPath(dir, version)}.tmp`, markerPath(dir, version));
    return stats;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Counts of the corpus root plus the given releases' folders (what `du -sb` gives on a clean corpus). */
export function corpusStats(dir: string, versions: readonly string[]): TreeStats {
  let files = 0;
  let fileBytes = 0;
  let apparentBytes = lstatSync(dir).size;
  for (const v of versions) {
    const s = treeStats(join(dir, releaseFolder(v)));
    files += s.files;
    fileBytes += s.fileBytes;
    apparentBytes += s.apparentBytes;
  }
  return { files, fileBytes, apparentBytes };
}

/**
 * Makes sure every requested release is in the corpus, fetching what is missing or
 * incomplete; returns the corpus counts. Throws IoError E_IO when npm or tar fails.
 */
export async function ensureCorpus(opts: CorpusOptions = {}): Promise<CorpusSummary> {
  const dir = opts.dir ?? join(PROJECT_ROOT, ".cache", "corpus");
  const versions = opts.versions ?? CORPUS_VERSIONS;
  const log = opts.log ?? (() => {});
  mkdirSync(dir, { recursive: true });
  try {
    for (const [i, version] of versions.entries()) {
      const step = `[${i + 1}/${versions.length}] typescript@${version}`;
      if (isComplete(dir, version)) {
        log(`${step}: complete, skipped`);
        continue;
      }
      log(`${step}: npm pack ...`);
      const s = await fetchRelease(dir, version);
      log(`${step}: ${s.files} files, ${s.fileBytes} bytes`);
    }
  } finally {
    rmSync(`${dir}-tmp`, { recursive: true, force: true });
  }
  return { dir, versions, ...corpusStats(dir, versions) };
}

async function main(argv: readonly string[]): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (argv.includes("kernel")) {
      const k = await ensureKernelCorpus(KERNEL_CORPUS_DIR, log);
      log(`corpus ${k.dir}: ${k.records.map((r) => `${r.name} ${r.version}`).join(", ")}`);
      return;
    }
    const c = await ensureCorpus({ log });
    log(
      `corpus ${c.dir}: ${c.versions.length} releases, ${c.files} files, ${c.apparentBytes} bytes (du -sb; ${c.fileBytes} in files)`,
    );
  } catch (e) {
    process.stderr.write(`corpus: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
