/**
 * `npm run corpus -- kernel`: assembles the big-tree corpus, the source trees of two Linux
 * releases as Debian ships them (`linux-source-6.1`, `linux-source-6.12`), one folder per
 * package under `.cache/corpus-kernel/` (`linux-source-6.1/` ...).
 *
 * Each package is fetched with `apt-get download` into a temporary folder, its .deb opened
 * with `dpkg-deb -x`, the `linux-source-*.tar.xz` inside unpacked there and renamed into
 * place. The exact package versions (they follow Debian's security updates) and the
 * counts of each tree go to `.cache/corpus-kernel.json`, next to the corpus (outside it,
 * so no tool packs it). A package whose folder still matches that record is skipped:
 * running again is cheap.
 */

import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { IoError } from "../src/errors.js";
import { assertSuccess, runProcess } from "./bench/spawn.js";
import { type TreeStats, treeStats } from "./bench/tree.js";

/** The Debian packages of the kernel corpus, older first; each unpacks to a folder of its name. */
export const KERNEL_PACKAGES = ["linux-source-6.1", "linux-source-6.12"] as const;

/** One tree of the kernel corpus as recorded after unpacking. */
export interface KernelTreeRecord {
  /** Debian package name, also the tree's folder name. */
  readonly name: string;
  /** Exact Debian package version, e.g. `6.1.192-3`. */
  readonly version: string;
  readonly files: number;
  readonly fileBytes: number;
}

/** The kernel corpus after {@link ensureKernelCorpus}. */
export interface KernelCorpus {
  readonly dir: string;
  /** Folder names, older first. */
  readonly trees: readonly string[];
  readonly records: readonly KernelTreeRecord[];
}

/** Path of the JSON record kept next to the corpus folder `dir`. */
export function kernelRecordPath(dir: string): string {
  return `${dir}.json`;
}

/** The recorded trees of the corpus at `dir`, or [] when there is no readable record. */
export function readKernelRecords(dir: string): KernelTreeRecord[] {
  try {
    const parsed = JSON.parse(readFileSync(kernelRecordPath(dir), "utf8")) as {
      trees?: KernelTreeRecord[];
    };
    return Array.isArray(parsed.trees) ? parsed.trees : [];
  } catch {
    return [];
  }
}

function writeRecords(dir: string, records: readonly KernelTreeRecord[]): void {
  const path = kernelRecordPath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ trees: records }, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

function isComplete(dir: string, rec: KernelTreeRecord | undefined): boolean {
  if (rec === undefined || !existsSync(join(dir, rec.name))) return false;
  const now = treeStats(join(dir, rec.name));
  return now.files === rec.files && now.fileBytes === rec.fileBytes;
}

/** `apt-get download <pkg>` in `tmp`; answers the .deb's path and its exact version. */
async function download(pkg: string, tmp: string): Promise<{ deb: string; version: string }> {
  chmodSync(tmp, 0o777); // so apt's unprivileged download user may write there
  assertSuccess(
    `apt-get download ${pkg}`,
    await runProcess("apt-get", ["download", pkg], { cwd: tmp }),
  );
  const deb = readdirSync(tmp).find((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb"));
  if (deb === undefined) throw new IoError("E_IO", `apt-get download ${pkg}: no .deb in ${tmp}`);
  const v = await runProcess("dpkg-deb", ["-f", join(tmp, deb), "Version"]);
  assertSuccess(`dpkg-deb -f ${deb} Version`, v);
  return { deb: join(tmp, deb), version: v.stdout.trim() };
}

/** Opens `deb` and unpacks its source tarball into `dest`; answers the tree's folder. */
async function unpackSource(pkg: string, deb: string, tmp: string): Promise<string> {
  const x = join(tmp, "deb");
  assertSuccess(`dpkg-deb -x ${deb}`, await runProcess("dpkg-deb", ["-x", deb, x]));
  const src = join(x, "usr", "src");
  const tarball = readdirSync(src).find((n) => /^linux-source-.*\.tar\.xz$/.test(n));
  if (tarball === undefined) throw new IoError("E_IO", `${deb}: no linux-source-*.tar.xz`, { pkg });
  const dest = join(tmp, "tree");
  mkdirSync(dest);
  const t = await runProcess("tar", ["xJf", join(src, tarball), "-C", dest]);
  assertSuccess(`tar xJf ${tarball}`, t);
  rmSync(x, { recursive: true, force: true });
  const top = readdirSync(dest);
  if (top.length !== 1 || top[0] !== pkg)
    throw new IoError(
      "E_IO",
      `${tarball}: expected one top folder ${pkg}, found ${top.join(", ")}`,
    );
  return join(dest, pkg);
}

async function fetchTree(dir: string, pkg: string, log: (l: string) => void) {
  const tmp = join(`${dir}-tmp`, `${pkg}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const { deb, version } = await download(pkg, tmp);
    log(`${pkg} ${version}: unpacking ...`);
    const tree = await unpackSource(pkg, deb, tmp);
    const stats: TreeStats = treeStats(tree);
    rmSync(join(dir, pkg), { recursive: true, force: true });
    renameSync(tree, join(dir, pkg));
    return { name: pkg, version, files: stats.files, fileBytes: stats.fileBytes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Makes sure both kernel trees are under `dir`, fetching what is missing or changed, and
 * records their versions. Throws IoError E_IO when apt-get, dpkg-deb or tar fails.
 */
export async function ensureKernelCorpus(
  dir: string,
  log: (line: string) => void = () => {},
): Promise<KernelCorpus> {
  mkdirSync(dir, { recursive: true });
  const records = readKernelRecords(dir);
  try {
    for (const pkg of KERNEL_PACKAGES) {
      const at = records.findIndex((r) => r.name === pkg);
      if (isComplete(dir, records[at])) {
        log(`${pkg} ${records[at]!.version}: complete, skipped`);
        continue;
      }
      log(`${pkg}: apt-get download ...`);
      const rec = await fetchTree(dir, pkg, log);
      if (at >= 0) records[at] = rec;
      else records.push(rec);
      writeRecords(dir, records);
      log(`${pkg} ${rec.version}: ${rec.files} files, ${rec.fileBytes} bytes`);
    }
  } finally {
    rmSync(`${dir}-tmp`, { recursive: true, force: true });
  }
  const ordered = KERNEL_PACKAGES.map((p) => records.find((r) => r.name === p)!);
  return { dir, trees: [...KERNEL_PACKAGES], records: ordered };
}
