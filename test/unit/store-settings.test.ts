import * as path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chunkerParams } from "../../src/chunker/chunker-params.js";
import { EngineError } from "../../src/errors.js";
import { MetaDb } from "../../src/meta/meta-db.js";
import { storeStats } from "../../src/stats/stats.js";
import { initStore } from "../../src/store/store-init.js";
import { DB_FILE } from "../../src/store/store-layout.js";
import {
  readStoreSettings,
  type StoreSettings,
  storeSettings,
  writeStoreSettings,
} from "../../src/store/store-settings.js";
import { KIB, MIB } from "../../src/types.js";
import { cleanupTmp, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

function freshDb(): MetaDb {
  return MetaDb.create(path.join(tmpDir("settings"), DB_FILE));
}

function codedError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, EngineError);
    return err as EngineError;
  }
  throw new Error("expected an error");
}

const CUSTOM: StoreSettings = {
  codec: "xz",
  level: 3,
  superChunkBytes: 256 * KIB,
  chunk: chunkerParams({ avgBytes: 64 * KIB, mode: "fixed" }),
  order: "path",
};

test("store-settings - defaults are set in one place", () => {
  const s = storeSettings();
  assert.equal(s, {
    codec: "zstd",
    level: 19,
    superChunkBytes: 4 * MIB,
    chunk: { avgBytes: 32 * KIB, minBytes: 8 * KIB, maxBytes: 128 * KIB, mode: "cdc" },
    order: "similarity",
  });
  assert.is(storeSettings({ codec: "xz" }).level, 6, "the level defaults to the codec's own");
  const db = freshDb();
  assert.equal(readStoreSettings(db), s, "a store without the keys reads as the defaults");
  db.close();
});

test("store-settings - a caller's bad values are usage errors", () => {
  assert.is(codedError(() => storeSettings({ level: 99 })).code, "E_USAGE");
  assert.is(codedError(() => storeSettings({ superChunkBytes: 1000 })).code, "E_USAGE");
  assert.is(codedError(() => storeSettings({ superChunkBytes: 128 * MIB })).code, "E_USAGE");
  const order = "random" as StoreSettings["order"];
  assert.is(codedError(() => storeSettings({ order })).code, "E_USAGE");
  const codec = "brotli" as StoreSettings["codec"];
  assert.is(codedError(() => storeSettings({ codec })).code, "E_CODEC_UNKNOWN");
});

test("store-settings - written settings read back the same, in the same text encodings", () => {
  const db = freshDb();
  writeStoreSettings(db, CUSTOM);
  assert.equal(readStoreSettings(db), CUSTOM);
  // the on-disk keys and encodings (spec/FORMAT.md, "meta")
  assert.is(db.getMeta("codec"), "xz");
  assert.is(db.getMeta("level"), "3");
  assert.is(db.getMeta("superchunk_bytes"), String(256 * KIB));
  assert.is(db.getMeta("chunk_avg_bytes"), String(64 * KIB));
  assert.is(db.getMeta("chunk_min_bytes"), String(16 * KIB));
  assert.is(db.getMeta("chunk_max_bytes"), String(256 * KIB));
  assert.is(db.getMeta("chunk_mode"), "fixed");
  assert.is(db.getMeta("order"), "path");
  writeStoreSettings(db, { codec: "zstd", level: 5, order: "similarity" });
  assert.equal(
    readStoreSettings(db),
    { ...CUSTOM, codec: "zstd", level: 5, order: "similarity" },
    "a partial write keeps the other keys",
  );
  db.close();
});

test("store-settings - init records its settings with order path", () => {
  const dir = path.join(tmpDir("settings"), "store");
  initStore(dir, { codec: "lz4", superChunkBytes: 512 * KIB });
  const db = MetaDb.open(path.join(dir, DB_FILE), { readonly: true });
  assert.equal(readStoreSettings(db), {
    ...storeSettings({ codec: "lz4", superChunkBytes: 512 * KIB }),
    order: "path",
  });
  db.close();
});

test("store-settings - a damaged value is a coded error naming the store and the key", () => {
  const cases: [key: string, value: string, code: string][] = [
    ["codec", "brotli", "E_CODEC_UNKNOWN"],
    ["level", "99", "E_CORRUPT"],
    ["level", "", "E_CORRUPT"],
    ["superchunk_bytes", "12x", "E_CORRUPT"],
    ["superchunk_bytes", "1024", "E_CORRUPT"],
    ["chunk_avg_bytes", "3000", "E_CORRUPT"],
    ["chunk_min_bytes", "1", "E_CORRUPT"],
    ["chunk_max_bytes", String(4 * KIB), "E_CORRUPT"],
    ["chunk_mode", "weird", "E_CORRUPT"],
    ["order", "random", "E_CORRUPT"],
  ];
  for (const [key, value, code] of cases) {
    const db = freshDb();
    writeStoreSettings(db, storeSettings());
    db.setMeta(key, value);
    const err = codedError(() => readStoreSettings(db));
    assert.is(err.code, code, `${key}=${value}`);
    assert.is(err.data.key, key, `${key}=${value} names its key`);
    assert.is(err.data.path, db.path, `${key}=${value} names the store`);
    assert.ok(err.message.includes(key) && err.message.includes(db.path), err.message);
    db.close();
  }
});

test("store-settings - an operation on a store with a damaged setting fails with the coded error", () => {
  const dir = path.join(tmpDir("settings"), "store");
  initStore(dir);
  const db = MetaDb.open(path.join(dir, DB_FILE));
  db.setMeta("superchunk_bytes", "lots");
  db.close();
  const err = codedError(() => storeStats(dir));
  assert.is(err.code, "E_CORRUPT");
  assert.is(err.data.key, "superchunk_bytes");
});

test("store-settings - written in one transaction: a failure halfway changes nothing", () => {
  const meta = freshDb();
  try {
    writeStoreSettings(meta, storeSettings({ codec: "zstd", level: 19 }));
    const setMeta = meta.setMeta.bind(meta);
    let calls = 0;
    meta.setMeta = (key: string, value: string) => {
      if (++calls === 2) throw new Error("killed between two settings");
      setMeta(key, value);
    };
    assert.throws(() => writeStoreSettings(meta, { codec: "xz", level: 1 }), /killed/);
    meta.setMeta = setMeta;
    const after = readStoreSettings(meta);
    assert.is(after.codec, "zstd");
    assert.is(after.level, 19);
  } finally {
    meta.close();
  }
});

test.run();
