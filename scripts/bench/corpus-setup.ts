/**
 * The tree the benchmark packs, by corpus: the typescript releases (`npm run corpus`) or
 * the two kernel source trees (`npm run corpus -- kernel`), whole or (quick) a part copied
 * into the scratch folder, or this machine's /usr/share/doc (`doc`: many small files of
 * little redundancy), always copied whole, so the tree cannot change during the run; plus
 * which folder is the newest release, which one grep searches, and the versions to record.
 */

import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { NotFoundError } from "../../src/errors.js";
import { CORPUS_VERSIONS, ensureCorpus, KERNEL_CORPUS_DIR, releaseFolder } from "../corpus.js";
import { ensureKernelCorpus, KERNEL_PACKAGES, readKernelRecords } from "../corpus-kernel.js";
import type { BenchArgs, CorpusId } from "./args.js";
import { assertSuccess, runProcess } from "./spawn.js";

const QUICK_VERSIONS = ["5.8.3", "5.9.3"] as const;

/** The corpus of one run. */
export interface BenchCorpus {
  readonly id: CorpusId;
  /** The folder packed (the corpus root, or a partial copy of it). */
  readonly dir: string;
  /** Top folders, oldest first (typescript releases, kernel trees). */
  readonly folders: readonly string[];
  /** What each folder is, for the report (release or exact Debian package version). */
  readonly versions: readonly string[];
  /** The newest folder (read by the newest-release phase and `ls -lR`). */
  readonly newest: string;
  /** The folder `grep -r -l` searches: `include/` of the older kernel tree. */
  readonly grepDir: string;
  /** What the quick run kept of the corpus, or null for the whole. */
  readonly part: string | null;
}

function requireFolders(source: string, folders: readonly string[], hint: string): void {
  for (const f of folders) {
    if (!existsSync(join(source, f)))
      throw new NotFoundError("E_NOT_FOUND", `${source} has no ${f} (${hint})`, { source });
  }
}

async function copyInto(work: string, source: string, rels: readonly string[]): Promise<string> {
  const dir = join(work, "corpus");
  mkdirSync(dir);
  for (const rel of rels) {
    const dest = join(dir, rel, "..");
    mkdirSync(dest, { recursive: true });
    assertSuccess("cp -a", await runProcess("cp", ["-a", join(source, rel), dest]));
  }
  return dir;
}

async function typescriptCorpus(args: BenchArgs, work: string, log: (l: string) => void) {
  const versions = args.quick ? QUICK_VERSIONS : CORPUS_VERSIONS;
  const given = process.env.SUPERCHUNK_CORPUS;
  const source = given ? resolve(given) : (await ensureCorpus({ versions, log })).dir;
  const folders = versions.map(releaseFolder);
  requireFolders(source, folders, "run npm run corpus, or fix SUPERCHUNK_CORPUS");
  const dir = args.quick ? await copyInto(work, source, folders) : source;
  const part = args.quick ? `releases ${versions.join(", ")} only` : null;
  const newest = folders[folders.length - 1]!;
  return { id: "typescript", dir, folders, versions, newest, grepDir: newest, part } as const;
}

async function kernelCorpus(args: BenchArgs, work: string, log: (l: string) => void) {
  const given = process.env.SUPERCHUNK_CORPUS;
  const source = given ? resolve(given) : (await ensureKernelCorpus(KERNEL_CORPUS_DIR, log)).dir;
  const folders = [...KERNEL_PACKAGES];
  requireFolders(source, folders, "run npm run corpus -- kernel, or fix SUPERCHUNK_CORPUS");
  const records = readKernelRecords(source);
  const versions = folders.map((f) => records.find((r) => r.name === f)?.version ?? "unknown");
  const parts = folders.map((f) => `${f}/include`);
  const dir = args.quick ? await copyInto(work, source, parts) : source;
  const part = args.quick ? "include/ of both trees only" : null;
  const newest = folders[folders.length - 1]!;
  return {
    id: "kernel",
    dir,
    folders,
    versions,
    newest,
    grepDir: `${folders[0]}/include`,
    part,
  } as const;
}

/** Where the `doc` corpus comes from unless SUPERCHUNK_CORPUS names another tree. */
const DOC_SOURCE = "/usr/share/doc";

async function docCorpus(work: string) {
  const source = resolve(process.env.SUPERCHUNK_CORPUS || DOC_SOURCE);
  requireFolders(source, ["."], "set SUPERCHUNK_CORPUS to a tree of documentation");
  const dir = join(work, "corpus");
  mkdirSync(dir);
  assertSuccess("cp -a", await runProcess("cp", ["-a", `${source}/.`, dir]));
  const what = `${source} of ${readdirSync(dir).length} packages, copied`;
  return {
    id: "doc",
    dir,
    folders: ["."],
    versions: [what],
    newest: ".",
    grepDir: ".",
    part: null,
  } as const;
}

/** Makes sure of the chosen corpus (fetching it when missing) and answers what to pack. */
export function prepareCorpus(
  args: BenchArgs,
  work: string,
  log: (line: string) => void,
): Promise<BenchCorpus> {
  if (args.corpus === "kernel") return kernelCorpus(args, work, log);
  if (args.corpus === "doc") return docCorpus(work);
  return typescriptCorpus(args, work, log);
}
