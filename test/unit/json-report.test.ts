/**
 * json-report: the one `--json` schema (spec/JSON.md) as the commands print it: the
 * envelope on every command, one store id throughout, the same numbers under the same
 * names across pack, stats, extract, fsck, repack and seal, a unit in every number's name,
 * and a store without an id (written before ids existed) reporting null.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Command } from "../../src/cli/cli-io.js";
import { extractCommand } from "../../src/cli/cmd-extract.js";
import { fsckCommand } from "../../src/cli/cmd-fsck.js";
import { packCommand, renderSummary } from "../../src/cli/cmd-pack.js";
import { repackCommand } from "../../src/cli/cmd-repack.js";
import { sealCommand } from "../../src/cli/cmd-seal.js";
import { statsCommand } from "../../src/cli/cmd-stats.js";
import { formatPercent } from "../../src/cli/percent.js";
import { packTree } from "../../src/pack/pack.js";
import { unpackDatabaseFile } from "../../src/store/packed-db.js";
import { captureIO } from "../helpers/cli-capture.js";
import { cleanupTmp, makeSampleTree, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

type Json = Record<string, unknown>;

async function runJson(cmd: Command, args: string[], status = 0): Promise<Json> {
  const c = captureIO({ env: {} });
  assert.is(await cmd.run([...args, "--json"], c.io), status, c.err());
  return JSON.parse(c.out()) as Json;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Number fields whose name needs no unit: identifiers and settings. */
const UNITLESS = new Set(["version", "level", "id", "ino", "generation"]);
const UNIT = /(Count|Bytes|Seconds|Ratio|Fraction)(Before|After)?$/;

/** Every number in `o` (nested too) sits under a name that says its unit. */
function unitNamed(o: unknown, where: string, out: string[]): void {
  if (Array.isArray(o)) {
    for (const [i, x] of o.entries()) unitNamed(x, `${where}[${i}]`, out);
  } else if (o !== null && typeof o === "object") {
    for (const [k, v] of Object.entries(o)) {
      // phaseSeconds, codecs: maps whose keys are names, values in the unit of the map's name
      if (typeof v === "number" && !UNIT.test(k) && !UNITLESS.has(k) && !where.endsWith("Seconds"))
        out.push(`${where}.${k}`);
      unitNamed(v, `${where}.${k}`, out);
    }
  }
}

function checkEnvelope(o: Json, command: string, store: string, storeId: string | null): void {
  assert.is(o.version, 1);
  assert.is(o.command, command);
  assert.is(o.store, path.resolve(store));
  assert.is(o.storeId, storeId);
  const [start, end] = [Date.parse(o.startTime as string), Date.parse(o.endTime as string)];
  assert.ok(Number.isFinite(start) && start <= end, `${o.startTime} .. ${o.endTime}`);
  assert.match(o.endTime as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(Object.keys(o).slice(0, 4), ["version", "command", "store", "storeId"]);
}

test("json-report - one envelope, one id and the same names across the commands", async () => {
  const root = tmpDir("json");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  const pack = await runJson(packCommand, [
    src,
    store,
    "--superchunk-size",
    "256K",
    "--level",
    "3",
  ]);
  const id = pack.storeId as string;
  assert.match(id, UUID);
  checkEnvelope(pack, "pack", store, id);
  assert.equal(pack.source, [path.resolve(src)]);
  assert.is(pack.storedBytes, (pack.superChunkBytes as number) + (pack.metadataBytes as number));

  const stats = await runJson(statsCommand, [store]);
  checkEnvelope(stats, "stats", store, id);
  assert.is(stats.storedBytes, (stats.superChunkBytes as number) + (stats.metadataBytes as number));
  const out = path.join(root, "out");
  const extract = await runJson(extractCommand, [store, out]);
  checkEnvelope(extract, "extract", store, id);
  assert.is(extract.destination, path.resolve(out));
  const same = ["fileCount", "dirCount", "symlinkCount", "logicalBytes"];
  for (const k of same) {
    assert.is(stats[k], pack[k], `stats ${k}`);
    assert.is(extract[k], pack[k], `extract ${k}`);
  }
  for (const k of ["uniqueBytes", "superChunkCount", "superChunkBytes"])
    assert.is(stats[k], pack[k], `stats ${k}`);

  const fsck = await runJson(fsckCommand, [store]);
  checkEnvelope(fsck, "fsck", store, id);
  assert.is(fsck.clean, true);
  assert.is(fsck.superChunkCount, pack.superChunkCount);
  const pathStats = await runJson(statsCommand, [store, "a"]);
  checkEnvelope(pathStats, "stats", store, id);
  const repack = await runJson(repackCommand, [store, "--all", "--dry-run"]);
  checkEnvelope(repack, "repack", store, id);
  assert.is(repack.superChunkCountBefore, pack.superChunkCount);
  assert.is(repack.superChunkBytesBefore, pack.superChunkBytes);
  const zip = path.join(root, "sealed.zip");
  const seal = await runJson(sealCommand, [store, zip]);
  checkEnvelope(seal, "seal", store, id);
  assert.is(seal.destination, zip);
  assert.is(seal.superChunkCount, pack.superChunkCount);
  const zipStats = await runJson(statsCommand, [zip]);
  checkEnvelope(zipStats, "stats", zip, id);

  const unnamed: string[] = [];
  const all = { pack, stats, extract, fsck, pathStats, repack, seal };
  for (const [name, o] of Object.entries(all)) unitNamed(o, name, unnamed);
  assert.equal(unnamed, [], "numbers without a unit in their name");
});

test("json-report - a store written before ids existed reads, with storeId null", async () => {
  const root = tmpDir("json-old");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 1, level: 3 });
  unpackDatabaseFile(path.join(store, "superchunk.db"));
  const db = new Database(path.join(store, "superchunk.db"));
  db.prepare("DELETE FROM meta WHERE key = 'store_id'").run();
  db.close();
  checkEnvelope(await runJson(statsCommand, [store]), "stats", store, null);
  const fsck = await runJson(fsckCommand, [store]);
  checkEnvelope(fsck, "fsck", store, null);
  assert.is(fsck.clean, true);
  const x = await runJson(extractCommand, [store, path.join(root, "out")]);
  assert.is(x.storeId, null);
});

test("json-report - the human summary gives the stored share as a percentage", async () => {
  const root = tmpDir("json-text");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const s = await packTree(src, path.join(root, "store"), { threads: 1, level: 3 });
  const text = renderSummary(s);
  assert.match(text, /stored .*\((\d+(\.\d)?|0\.\d\d)% of logical\)/);
  assert.not.match(text, /\d\.\d{4} of logical/);
  assert.is(formatPercent(7.66), "766%");
  assert.is(formatPercent(0.2413), "24.1%");
  assert.is(formatPercent(0.00052), "0.052%");
});

test.run();
