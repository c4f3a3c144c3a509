/**
 * The package as a user installs it: `npm pack` of this checkout (after the build), installed
 * into a new temporary project offline (its node_modules first filled with hard links to this
 * checkout's production dependencies, so nothing is fetched or compiled), then the installed
 * `superchunk` command run there. The package's own FUSE binding must arrive prebuilt (no
 * build/ directory, no binding.gyp), every command but mount must work with the binding made
 * unloadable, and a mount through the installed package must load the shipped prebuild.
 * examples/library.mjs, when the checkout has one, runs in the temporary project too.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as assert from "uvu/assert";
import { isMounted, mountDir, runDirForTests } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { compareTrees, tmpDir } from "../helpers/tree.js";

const exec = promisify(execFile);
const PROJECT = path.resolve(".");
const PREBUILD = path.join("prebuilds", "linux-x64", "superchunk.node");
const { test, t } = suiteNeeding("package-install", ["fuse"]);

/** This environment without npm's lifecycle variables (they would point npm at the checkout). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const r = await exec("npm", args, { cwd, env: cleanEnv(), maxBuffer: 64 << 20 });
  return r.stdout;
}

/**
 * The prebuild `prepack` makes, made again only when native/ or binding.gyp is newer (the
 * test packs with --ignore-scripts: the suite has built dist/ already, and tsc twice would
 * double the test's time).
 */
async function ensurePrebuild(): Promise<void> {
  const file = path.join(PROJECT, PREBUILD);
  const sources = ["binding.gyp", ...fs.readdirSync("native").map((f) => `native/${f}`)];
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= newest) return;
  const version = process.versions.node;
  await npm(PROJECT, "exec", "--no", "--", "prebuildify", "--napi", "--strip", "-t", version);
}

/** Hard links (a copy across file systems) of this checkout's production dependencies. */
async function linkDependencies(into: string): Promise<void> {
  const listed = await npm(PROJECT, "ls", "--omit=dev", "--all", "--parseable");
  const top = listed
    .split("\n")
    .filter((p) => p.startsWith(path.join(PROJECT, "node_modules") + path.sep))
    .map((p) => path.relative(path.join(PROJECT, "node_modules"), p))
    .filter((rel) => !rel.includes(`${path.sep}node_modules${path.sep}`));
  for (const rel of new Set(top)) {
    const to = path.join(into, "node_modules", rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const from = fs.realpathSync(path.join(PROJECT, "node_modules", rel));
    await exec("cp", ["-al", from, to]).catch(() => exec("cp", ["-a", from, to]));
  }
}

interface Installed {
  /** the temporary project */
  readonly dir: string;
  /** node_modules/superchunk in it */
  readonly pkg: string;
  /** its node_modules/.bin/superchunk */
  readonly bin: string;
}

let installed: Promise<Installed> | undefined;

/** Packs this checkout and installs the tarball into a new project, once per run. */
function install(): Promise<Installed> {
  installed ??= (async () => {
    assert.ok(fs.existsSync("dist/src/cli/main.js"), "build first (npm run build)");
    await ensurePrebuild();
    const root = tmpDir("pkg");
    const tarball = (
      await npm(PROJECT, "pack", "--ignore-scripts", "--silent", "--pack-destination", root)
    ).trim();
    const dir = path.join(root, "project");
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "superchunk-install-check", private: true, type: "module" }),
    );
    await linkDependencies(dir);
    await npm(dir, "install", "--offline", "--no-audit", "--no-fund", path.join(root, tarball));
    const pkg = path.join(dir, "node_modules", "superchunk");
    return { dir, pkg, bin: path.join(dir, "node_modules", ".bin", "superchunk") };
  })();
  return installed;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the installed command in the temporary project. */
async function superchunk(i: Installed, env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  try {
    const r = await exec(i.bin, args, { cwd: i.dir, env: cleanEnv(env) });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? null, out: x.stdout ?? "", err: x.stderr ?? "" };
  }
}

const NO_ADDON = { SUPERCHUNK_FUSE_ADDON: "/nonexistent/superchunk.node" };

test("package-install - the package's binding arrives prebuilt, nothing compiled", async () => {
  const scripts = JSON.parse(fs.readFileSync("package.json", "utf8")).scripts;
  assert.match(scripts.prepack, "prebuildify --napi --strip", "npm pack makes the prebuild");
  const i = await install();
  assert.ok(fs.existsSync(path.join(i.pkg, PREBUILD)), "the prebuild is in the package");
  assert.not.ok(
    fs.existsSync(path.join(i.pkg, "build")),
    "no build/: the binding was not compiled",
  );
  assert.not.ok(fs.existsSync(path.join(i.pkg, "binding.gyp")), "no binding.gyp to compile");
});

test("package-install - the installed command packs, extracts and lists without FUSE", async () => {
  const i = await install();
  const help = await superchunk(i, NO_ADDON, "--help");
  assert.is(help.code, 0, help.err);
  assert.match(help.out, "Usage: superchunk");
  const sample = path.join(PROJECT, "fixtures", "sample");
  const store = path.join(i.dir, "store");
  const packed = await superchunk(i, NO_ADDON, "pack", sample, store, "--quiet");
  assert.is(packed.code, 0, packed.err);
  const out = path.join(i.dir, "out");
  const x = await superchunk(i, NO_ADDON, "extract", store, out, "--quiet");
  assert.is(x.code, 0, x.err);
  assert.equal(compareTrees(sample, out), []);
  if (/^\s+ls\s/m.test(help.out)) {
    const ls = await superchunk(i, NO_ADDON, "ls", store);
    assert.is(ls.code, 0, ls.err);
    assert.match(ls.out, "release-1.0");
  } else console.log("package-install: no ls command yet, not run");
});

t(
  "package-install - a mount through the installed package loads the shipped prebuild",
  async () => {
    const i = await install();
    const store = path.join(i.dir, "store-mount");
    const sample = path.join(PROJECT, "fixtures", "sample");
    const env = { SUPERCHUNK_RUN_DIR: runDirForTests() };
    assert.is((await superchunk(i, env, "pack", sample, store, "--quiet")).code, 0);
    const mnt = mountDir();
    const m = await superchunk(i, env, "mount", store, mnt);
    assert.is(m.code, 0, m.err);
    try {
      const readme = "README.txt";
      assert.equal(
        await fs.promises.readFile(path.join(mnt, readme)),
        fs.readFileSync(path.join(sample, readme)),
      );
    } finally {
      const u = await superchunk(i, env, "umount", mnt);
      assert.is(u.code, 0, u.err);
    }
    assert.not.ok(isMounted(mnt));
  },
);

test("package-install - examples/library.mjs runs against the installed package", async () => {
  const example = path.join(PROJECT, "examples", "library.mjs");
  if (!fs.existsSync(example)) {
    console.log("package-install: no examples/library.mjs yet, not run");
    return;
  }
  const i = await install();
  fs.copyFileSync(example, path.join(i.dir, "library.mjs"));
  const r = await exec(process.execPath, ["library.mjs"], { cwd: i.dir, env: cleanEnv() }).then(
    (ok) => ({ code: 0, err: ok.stderr }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code, err: e.stderr ?? "" }),
  );
  assert.is(r.code, 0, r.err);
});

test.run();
