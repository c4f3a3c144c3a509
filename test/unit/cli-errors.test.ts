import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Command } from "../../src/cli/cli-io.js";
import { EXIT_BY_CODE, exitStatusOf } from "../../src/cli/exit-status.js";
import { runCli } from "../../src/cli/main.js";
import { nearest } from "../../src/cli/suggest.js";
import { codecNames } from "../../src/codec/codec-registry.js";
import { type ErrorCode, IoError, UsageError } from "../../src/errors.js";
import { captureIO, cli } from "../helpers/cli-capture.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

/** A source tree with one file, and a store path beside it that does not exist yet. */
function paths(): { src: string; dest: string; root: string } {
  const root = tmpDir("cli-errors");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, "f"), "x");
  return { src, dest: path.join(root, "store"), root };
}

test("cli errors - an unknown option names itself and the nearest known one", async () => {
  const { src, dest } = paths();
  const r = await cli("pack", src, dest, "--codc", "zstd");
  assert.is(r.code, 2);
  assert.is(
    r.err.split("\n")[0],
    "superchunk pack: unknown option '--codc' (did you mean --codec?) [E_USAGE]",
  );
  const far = await cli("pack", src, dest, "--bogus");
  assert.is(far.code, 2);
  assert.is(far.err.split("\n")[0], "superchunk pack: unknown option '--bogus' [E_USAGE]");
  assert.not.match(far.err, "To specify a positional");
  const quotes = (far.err.split("\n")[0]!.match(/'/g) ?? []).length;
  assert.is(quotes % 2, 0, "quotes are balanced");
  assert.not.ok(fs.existsSync(dest));
});

test("cli errors - a missing value and a value given to a switch", async () => {
  const { src, dest } = paths();
  const missing = await cli("pack", src, dest, "--codec");
  assert.is(missing.code, 2);
  assert.match(missing.err, "superchunk pack: option --codec needs a value [E_USAGE]");
  const extra = await cli("pack", src, dest, "--quiet=yes");
  assert.is(extra.code, 2);
  assert.match(extra.err, `superchunk pack: option --quiet takes no value (got "yes") [E_USAGE]`);
});

test("cli errors - an unknown command suggests the nearest command", async () => {
  const r = await cli("mout", "store", "mnt");
  assert.is(r.code, 2);
  assert.match(r.err, "superchunk: unknown command 'mout' (did you mean mount?) [E_USAGE]");
  const far = await cli("frobnicate");
  assert.is(far.code, 2);
  assert.not.match(far.err, "did you mean");
  assert.is(nearest("repak", ["pack", "repack", "seal"]), "repack");
  assert.is(nearest("zzzzzz", ["pack", "repack", "seal"]), undefined);
});

test("cli errors - an unknown codec lists the valid ones and exits 2", async () => {
  const { src, dest } = paths();
  for (const cmd of [
    ["pack", src, dest],
    ["init", dest],
  ]) {
    const r = await cli(...cmd, "--codec", "gzip");
    assert.is(r.code, 2, r.err);
    const line = r.err.split("\n")[0]!;
    assert.is(
      line,
      `superchunk ${cmd[0]}: unknown codec "gzip" (valid: ${codecNames().join(", ")}) [E_USAGE]`,
    );
    for (const name of ["zstd", "xz", "lz4", "none"]) assert.match(line, name);
  }
  const typo = await cli("pack", src, dest, "--codec", "zsdt");
  assert.match(typo.err, "did you mean zstd?");
  const order = await cli("pack", src, dest, "--order", "size");
  assert.is(order.code, 2);
  assert.match(order.err, `unknown order "size" (valid: similarity, path)`);
  assert.not.ok(fs.existsSync(dest));
});

test("cli errors - --chunk-size says what the flag needs, in the flag's words", async () => {
  const { src, dest } = paths();
  for (const [cmd, value] of [
    [["pack", src, dest], "33K"],
    [["init", dest], "512"],
    [["pack", src, dest], "32M"],
  ] as const) {
    const r = await cli(...cmd, "--chunk-size", value);
    assert.is(r.code, 2, r.err);
    assert.match(
      r.err,
      `superchunk ${cmd[0]}: --chunk-size: must be a power of two between 1K and 16M, got ${value} [E_USAGE]`,
    );
    assert.not.match(r.err, /avgBytes|minBytes|maxBytes|chunker params/);
  }
  assert.is((await cli("pack", src, dest, "--chunk-size", "64K", "--quiet")).code, 0);
});

test("cli errors - a destination in a missing directory is named, never a temporary name", async () => {
  const { src, root } = paths();
  const nowhere = path.join(root, "no", "such");
  for (const dest of [path.join(nowhere, "store"), path.join(nowhere, "x.zip")]) {
    const r = await cli("pack", src, dest, "--quiet");
    assert.is(r.code, 1);
    assert.is(
      r.err,
      `superchunk pack: ${dest}: the directory ${nowhere} does not exist (create it first) [E_NOT_FOUND]\n`,
    );
  }
  const store = path.join(root, "store");
  assert.is((await cli("pack", src, store, "--quiet")).code, 0);
  const out = path.join(nowhere, "sealed.zip");
  const s = await cli("seal", store, out);
  assert.is(s.code, 1);
  assert.is(
    s.err,
    `superchunk seal: ${out}: the directory ${nowhere} does not exist (create it first) [E_NOT_FOUND]\n`,
  );
  assert.not.match(s.err, "partial");
});

/** A command named `name` that throws `err`. */
function throwing(name: string, err: Error): Command {
  return {
    name,
    summary: "",
    usage: "",
    run: async () => {
      throw err;
    },
  };
}

test("cli errors - one code, one exit status, whichever command and error family", async () => {
  const mountpoint = "/mnt/busy";
  const list = [
    throwing("mount", new UsageError("E_MOUNT_BUSY", "busy", { mountpoint })),
    throwing("umount", new IoError("E_MOUNT_BUSY", "busy", { mountpoint, busy: true })),
  ];
  const statuses = [];
  for (const name of ["mount", "umount"]) {
    const c = captureIO({ env: {} });
    statuses.push(await runCli([name], c.io, list));
    assert.match(c.err(), `superchunk ${name}: busy [E_MOUNT_BUSY]`);
  }
  assert.equal(statuses, [exitStatusOf("E_MOUNT_BUSY"), exitStatusOf("E_MOUNT_BUSY")]);
});

test("cli errors - hints where the next step is known", async () => {
  const cases: [Error, string][] = [
    [
      new IoError("E_MOUNT_BUSY", "cannot unmount", { mountpoint: "/mnt/x", busy: true }),
      "hint: see which processes use it: fuser -m /mnt/x",
    ],
    [
      new UsageError("E_STORE_LOCKED", "in use", {
        holder: { pid: 7, host: "h", purpose: "mount /mnt/y", since: "now" },
      }),
      "hint: it is mounted at /mnt/y: superchunk umount /mnt/y",
    ],
    [new IoError("E_SUBBLOCK_HASH", "damaged"), "superchunk fsck STORE --repair-from COPY"],
  ];
  for (const [err, hint] of cases) {
    const c = captureIO({ env: {} });
    await runCli(["x"], c.io, [throwing("x", err)]);
    const lines = c.err().trimEnd().split("\n");
    assert.is(lines.length, 2, c.err());
    assert.match(lines[0]!, /\[E_[A-Z_]+\]$/);
    assert.match(lines[1]!, hint);
  }
});

/** The codes of the ErrorCode union, read from src/errors.ts. */
function codesInSource(): string[] {
  const text = fs.readFileSync(path.resolve("src/errors.ts"), "utf8").replace(/\/\/.*$/gm, "");
  const union = /export type ErrorCode =([^;]*);/.exec(text)?.[1] ?? "";
  return [...union.matchAll(/"(E_[A-Z0-9_]+)"/g)].map((m) => m[1]!);
}

test("cli errors - the exit-status table has a row for every error code, and no other", () => {
  const codes = codesInSource();
  assert.ok(codes.length > 40, `read ${codes.length} codes`);
  const rows = Object.keys(EXIT_BY_CODE);
  assert.equal(
    codes.filter((c) => !rows.includes(c)),
    [],
    "codes without a row",
  );
  assert.equal(
    rows.filter((c) => !codes.includes(c)),
    [],
    "rows of no code",
  );
  for (const code of codes) assert.ok([1, 2].includes(exitStatusOf(code as ErrorCode)), code);
});

test("cli errors - README's exit-status table is the table main uses", () => {
  const readme = fs.readFileSync(path.resolve("README.md"), "utf8");
  const section = readme.split("\n## Exit status\n")[1]?.split("\n## ")[0] ?? "";
  const documented = [...section.matchAll(/^\| `(E_[A-Z0-9_]+)` \| (.*) \| (\d+) \|$/gm)].map(
    (m) => [m[1], m[2], Number(m[3])],
  );
  const table = Object.entries(EXIT_BY_CODE).map(([c, r]) => [c, r.meaning, r.status]);
  assert.equal(documented, table);
});

test.run();
