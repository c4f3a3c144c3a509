// Measures Node's built-in zstd (zlib, Node >= 22.15) and SQLite (node:sqlite) against the
// packages the project uses (zstd-napi, better-sqlite3), in the ways the project uses them:
// zstd level 19 on 4 MiB buffers, one thread, window sized to the buffer, no frame checksum
// (as src/codec/zstd.ts); SQLite with the store's page size and WAL, a few thousand rows
// inserted in one transaction, lookups by key through prepared statements, and a full scan
// (as src/meta/). Prints the median of 3 runs of each.
//
//   node scripts/node-builtins-bench.mjs [--json] [DIR...]
//
// Each DIR gives one 4 MiB buffer: its files' bytes in path order (default /usr/share/doc,
// /usr/include and /usr/bin). Needs a Node with both built-ins (24 here: run it with
// `bash scripts/node24.sh run node scripts/node-builtins-bench.mjs`).
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const asJson = args.includes("--json");
const dirs = args.filter((a) => a !== "--json");
if (dirs.length === 0) dirs.push("/usr/share/doc", "/usr/include", "/usr/bin");
if (typeof zlib.zstdCompressSync !== "function") {
  console.error(`node ${process.version} has no zlib zstd (Node >= 22.15 has)`);
  process.exit(2);
}
const { DatabaseSync } = await import("node:sqlite");
const BetterSqlite = require("better-sqlite3");
const zstdNapi = require("zstd-napi/binding.js");

const BUFFER_BYTES = 4 * 1024 * 1024;
const LEVEL = 19;
const RUNS = 3;
const results = [];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Median of RUNS timings of each of `fns`, in milliseconds; the runs take turns (a, b, a,
 * b, ...) so a change in the machine's load falls on both.
 */
function timeEach(fns) {
  const times = fns.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    fns.forEach((fn, j) => {
      const t = process.hrtime.bigint();
      fn();
      times[j].push(Number(process.hrtime.bigint() - t) / 1e6);
    });
  }
  return times.map(median);
}

function record(group, what, impl, ms, extra = {}) {
  results.push({ group, what, impl, ms: Number(ms.toFixed(2)), ...extra });
}

/** The first BUFFER_BYTES of the files under `dir`, in path order. */
function sample(dir) {
  const out = Buffer.alloc(BUFFER_BYTES);
  let filled = 0;
  const walk = (d) => {
    let names;
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (filled === BUFFER_BYTES) return;
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        try {
          filled += readFileSync(p).copy(out, filled);
        } catch {}
      }
    }
  };
  walk(dir);
  return out.subarray(0, filled);
}

function windowLog(n) {
  return Math.min(27, Math.max(10, Math.ceil(Math.log2(Math.max(n, 1)))));
}

const napi = {
  compress(raw) {
    const c = new zstdNapi.CCtx();
    c.setParameter(zstdNapi.CParameter.compressionLevel, LEVEL);
    c.setParameter(zstdNapi.CParameter.windowLog, windowLog(raw.length));
    c.setParameter(zstdNapi.CParameter.checksumFlag, 0);
    const dest = Buffer.allocUnsafe(zstdNapi.compressBound(raw.length));
    return Buffer.from(dest.subarray(0, c.compress2(dest, raw)));
  },
  inflate(data, rawLength) {
    const out = Buffer.allocUnsafe(rawLength);
    new zstdNapi.DCtx().decompress(out, data);
    return out;
  },
};

const builtin = {
  compress(raw) {
    const { constants: k } = zlib;
    return zlib.zstdCompressSync(raw, {
      pledgedSrcSize: raw.length,
      params: {
        [k.ZSTD_c_compressionLevel]: LEVEL,
        [k.ZSTD_c_windowLog]: windowLog(raw.length),
        [k.ZSTD_c_checksumFlag]: 0,
      },
    });
  },
  inflate(data, rawLength) {
    return zlib.zstdDecompressSync(data, { chunkSize: rawLength, maxOutputLength: rawLength });
  },
};

function benchZstd(dir) {
  const raw = sample(dir);
  const mib = raw.length / 1048576;
  const impls = [
    ["zstd-napi", napi],
    ["zlib", builtin],
  ];
  const packed = [];
  const cMs = timeEach(
    impls.map(([, z], j) => () => {
      packed[j] = z.compress(raw);
    }),
  );
  // decompressing 4 MiB takes milliseconds: time 10 in a row
  const dMs = timeEach(
    impls.map(([, z], j) => () => {
      for (let i = 0; i < 10; i++) z.inflate(packed[j], raw.length);
    }),
  ).map((ms) => ms / 10);
  impls.forEach(([impl], j) => {
    const other = impls[1 - j][1];
    const same = Buffer.compare(other.inflate(packed[j], raw.length), raw) === 0;
    const info = { bytes: packed[j].length, input: raw.length, crossDecodes: same };
    record("zstd", `${dir} compress`, impl, cMs[j], { ...info, mibPerS: mib / (cMs[j] / 1000) });
    record("zstd", `${dir} decompress`, impl, dMs[j], { mibPerS: mib / (dMs[j] / 1000) });
  });
}

const SCHEMA = `
CREATE TABLE inodes (ino INTEGER PRIMARY KEY, kind INTEGER NOT NULL, mode INTEGER NOT NULL,
  uid INTEGER NOT NULL, gid INTEGER NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  nlink INTEGER NOT NULL, target BLOB, content INTEGER) STRICT;
CREATE TABLE entries (parent INTEGER NOT NULL, name BLOB NOT NULL, ino INTEGER NOT NULL,
  PRIMARY KEY (parent, name)) STRICT, WITHOUT ROWID;`;
const ROWS = 5000;
const LOOKUPS = 20000;

/** The same database work through either binding; `tx` runs `fn` in one transaction. */
const sqlite = {
  "better-sqlite3": {
    open: (p) => new BetterSqlite(p),
    tx: (db, fn) => db.transaction(fn).immediate(),
    bigints: (stmt) => stmt.safeIntegers(true),
    lookup: (db) => {
      const s = db.prepare("SELECT ino FROM entries WHERE parent = ? AND name = ?").pluck();
      return (parent, name) => s.get(parent, name);
    },
  },
  "node:sqlite": {
    open: (p) => new DatabaseSync(p),
    bigints: (stmt) => {
      stmt.setReadBigInts(true);
      return stmt;
    },
    tx: (db, fn) => {
      db.exec("BEGIN IMMEDIATE");
      try {
        fn();
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
    },
    lookup: (db) => {
      const s = db.prepare("SELECT ino FROM entries WHERE parent = ? AND name = ?");
      return (parent, name) => s.get(parent, name)?.ino;
    },
  },
};

const names = Array.from({ length: ROWS }, (_, i) => Buffer.from(`file-${i}.txt`));

function fresh(api, path) {
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  const db = api.open(path);
  db.exec("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  db.exec(SCHEMA);
  return db;
}

function fill(api, db) {
  const ino = db.prepare("INSERT INTO inodes VALUES (?, 1, 420, 0, 0, ?, ?, 1, NULL, ?)");
  const ent = db.prepare("INSERT INTO entries VALUES (?, ?, ?)");
  api.tx(db, () => {
    for (let i = 0; i < ROWS; i++) {
      ino.run(i + 2, i * 37, 1_700_000_000_000_000_000n + BigInt(i), i);
      ent.run(1 + (i % 50), names[i], i + 2);
    }
  });
}

function benchSqlite() {
  const impls = Object.entries(sqlite);
  const paths = impls.map((_, j) => join(tmpdir(), `node-builtins-bench-${process.pid}-${j}.db`));
  const dbs = [];
  const each = (fn) =>
    timeEach(
      impls.map(
        ([, api], j) =>
          () =>
            fn(api, j),
      ),
    );
  const insertMs = each((api, j) => {
    dbs[j]?.close();
    dbs[j] = fresh(api, paths[j]);
    fill(api, dbs[j]);
  });
  const finds = impls.map(([, api], j) => api.lookup(dbs[j]));
  // nanosecond times do not fit a double: the store reads them as bigints
  const sel = (api, j, sql) => api.bigints(dbs[j].prepare(sql));
  const inodes = impls.map(([, api], j) => sel(api, j, "SELECT * FROM inodes WHERE ino = ?"));
  const scans = impls.map(([, api], j) => sel(api, j, "SELECT * FROM inodes ORDER BY ino"));
  let sum = 0;
  const getMs = each((_, j) => {
    for (let i = 0; i < LOOKUPS; i++) {
      const k = (i * 7919) % ROWS;
      sum += Number(inodes[j].get(finds[j](1 + (k % 50), names[k])).size);
    }
  });
  const iterMs = each((_, j) => {
    for (let r = 0; r < 10; r++) for (const row of scans[j].iterate()) sum += Number(row.nlink);
  });
  if (sum === 0) throw new Error("no rows read");
  impls.forEach(([impl], j) => {
    record("sqlite", `${ROWS}+${ROWS} inserts, one transaction`, impl, insertMs[j]);
    record("sqlite", `${LOOKUPS} entry + inode gets by key`, impl, getMs[j], {
      perSecond: Math.round(LOOKUPS / (getMs[j] / 1000)),
    });
    record("sqlite", `iterate ${ROWS} inodes x10`, impl, iterMs[j]);
    dbs[j].close();
    for (const f of [paths[j], `${paths[j]}-wal`, `${paths[j]}-shm`]) rmSync(f, { force: true });
  });
}

for (const dir of dirs) benchZstd(dir);
benchSqlite();

const versions = {
  node: process.version,
  zlibZstd: process.versions.zstd,
  zstdNapiLib: zstdNapi.versionString?.() ?? "?",
  nodeSqlite: process.versions.sqlite,
  betterSqlite3: new BetterSqlite(":memory:").prepare("SELECT sqlite_version() v").get().v,
};
if (asJson) {
  console.log(JSON.stringify({ versions, runs: RUNS, results }, null, 2));
} else {
  console.log(
    Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
  );
  console.log(`median of ${RUNS} runs`);
  for (const r of results) {
    const extra = [
      r.mibPerS === undefined ? "" : `${r.mibPerS.toFixed(1)} MiB/s`,
      r.bytes === undefined
        ? ""
        : `${r.bytes} B of ${r.input} (other decodes it: ${r.crossDecodes})`,
      r.perSecond === undefined ? "" : `${r.perSecond}/s`,
    ].filter((s) => s !== "");
    console.log(`${r.group}  ${r.what}  ${r.impl}: ${r.ms} ms  ${extra.join("  ")}`);
  }
}
