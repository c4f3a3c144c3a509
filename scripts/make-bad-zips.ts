/**
 * Writes the hostile and damaged zips of spec/fixtures/bad/, one problem each, named
 * <ERROR_CODE>-<what>.zip after the code `superchunk pack <zip> <dest>` must fail
 * with. The bytes are laid out here by hand (yazl refuses most of these on purpose).
 *
 *   npm run build && node dist/scripts/make-bad-zips.js [out-dir]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

const UNIX = 3;
const DOS = 0;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;

/** One entry as written: every field the fixtures need to lie about. */
interface RawEntry {
  name: string | Buffer;
  /** bytes stored in the zip (already deflated for method 8) */
  stored: Buffer;
  method?: number;
  crc: number;
  usize: number;
  csize?: number;
  flags?: number;
  host?: number;
  /** unix mode (upper 16 bits of the external attributes) */
  mode?: number;
  /** points the central record at another entry's local header */
  offsetOf?: number;
}

function deflated(name: string, data: Buffer, mode = S_IFREG | 0o644): RawEntry {
  const stored = zlib.deflateRawSync(data, { level: 9 });
  return { name, stored, method: 8, crc: zlib.crc32(data), usize: data.length, mode };
}

function stored(name: string | Buffer, data: Buffer, mode = S_IFREG | 0o644): RawEntry {
  return { name, stored: data, method: 0, crc: zlib.crc32(data), usize: data.length, mode };
}

// DOS time 2021-03-04 05:06:06
const DOS_TIME = (5 << 11) | (6 << 5) | 3;
const DOS_DATE = ((2021 - 1980) << 9) | (3 << 5) | 4;

function localHeader(e: RawEntry, name: Buffer): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0); // 0 signature
  h.writeUInt16LE(20, 4); // 4 version needed
  h.writeUInt16LE(e.flags ?? 0, 6); // 6 flags
  h.writeUInt16LE(e.method ?? 0, 8); // 8 method
  h.writeUInt16LE(DOS_TIME, 10); // 10 time
  h.writeUInt16LE(DOS_DATE, 12); // 12 date
  h.writeUInt32LE(e.crc >>> 0, 14); // 14 crc
  h.writeUInt32LE(e.csize ?? e.stored.length, 18); // 18 compressed size
  h.writeUInt32LE(e.usize, 22); // 22 uncompressed size
  h.writeUInt16LE(name.length, 26); // 26 name length
  h.writeUInt16LE(0, 28); // 28 extra length
  return Buffer.concat([h, name]);
}

function centralRecord(e: RawEntry, name: Buffer, offset: number): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0); // 0 signature
  h.writeUInt16LE(((e.host ?? UNIX) << 8) | 30, 4); // 4 version made by
  h.writeUInt16LE(20, 6); // 6 version needed
  h.writeUInt16LE(e.flags ?? 0, 8); // 8 flags
  h.writeUInt16LE(e.method ?? 0, 10); // 10 method
  h.writeUInt16LE(DOS_TIME, 12); // 12 time
  h.writeUInt16LE(DOS_DATE, 14); // 14 date
  h.writeUInt32LE(e.crc >>> 0, 16); // 16 crc
  h.writeUInt32LE(e.csize ?? e.stored.length, 20); // 20 compressed size
  h.writeUInt32LE(e.usize, 24); // 24 uncompressed size
  h.writeUInt16LE(name.length, 28); // 28 name length
  // 30 extra length, 32 comment length, 34 disk, 36 internal attributes: 0
  h.writeUInt32LE(((e.mode ?? 0) << 16) >>> 0, 38); // 38 external attributes
  h.writeUInt32LE(offset, 42); // 42 local header offset
  return Buffer.concat([h, name]);
}

/** Lays out local headers and data, then the central directory and its end record. */
function buildZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    offsets.push(at);
    const local = Buffer.concat([localHeader(e, name), e.stored]);
    parts.push(local);
    at += local.length;
  }
  const cdStart = at;
  entries.forEach((e, i) => {
    const off = e.offsetOf === undefined ? offsets[i]! : offsets[e.offsetOf]!;
    const rec = centralRecord(e, Buffer.from(e.name), off);
    parts.push(rec);
    at += rec.length;
  });
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); // 0 signature
  end.writeUInt16LE(entries.length, 8); // 8 entries on this disk
  end.writeUInt16LE(entries.length, 10); // 10 entries in total
  end.writeUInt32LE(at - cdStart, 12); // 12 central directory size
  end.writeUInt32LE(cdStart, 16); // 16 central directory offset
  parts.push(end);
  return Buffer.concat(parts);
}

const TEXT = Buffer.from("a harmless line of text\n".repeat(40));
const ok = () => deflated("ok.txt", TEXT);

/** An entry whose stored bytes are another complete entry (the overlapping-entries bomb). */
function overlapping(): Buffer {
  const inner = stored("inner.txt", TEXT);
  const innerLocal = Buffer.concat([localHeader(inner, Buffer.from("inner.txt")), inner.stored]);
  const outer = stored("outer.txt", innerLocal);
  const zip = buildZip([outer]);
  // add a second central record for inner.txt, 30 + 9 bytes into outer's local header
  const cdStart = zip.readUInt32LE(zip.length - 6);
  const cd = zip.subarray(cdStart, zip.length - 22);
  const innerRec = centralRecord(inner, Buffer.from("inner.txt"), 30 + "outer.txt".length);
  const end = Buffer.from(zip.subarray(zip.length - 22));
  end.writeUInt16LE(2, 8);
  end.writeUInt16LE(2, 10);
  end.writeUInt32LE(cd.length + innerRec.length, 12);
  return Buffer.concat([zip.subarray(0, cdStart), cd, innerRec, end]);
}

function ratioBomb(): Buffer {
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  const e = deflated("zeros.bin", zeros);
  const ratio = e.usize / e.stored.length;
  if (ratio <= 1000) throw new Error(`ratio fixture only reaches ${ratio}:1`);
  return buildZip([ok(), e]);
}

function lying(declared: number): Buffer {
  const data = Buffer.from("0123456789".repeat(100));
  return buildZip([ok(), { ...deflated("liar.txt", data), usize: declared }]);
}

const fixtures: Record<string, () => Buffer> = {
  "E_PATH_ESCAPE-dotdot": () => buildZip([ok(), deflated("../evil.txt", TEXT)]),
  "E_PATH_ESCAPE-nested-dotdot": () => buildZip([deflated("a/b/../../../evil.txt", TEXT)]),
  "E_PATH_ESCAPE-absolute": () => buildZip([deflated("/tmp/evil.txt", TEXT)]),
  "E_PATH_ESCAPE-drive-letter": () => buildZip([{ ...deflated("C:/evil.txt", TEXT), host: DOS }]),
  "E_PATH_ESCAPE-backslash-dos": () =>
    buildZip([{ ...deflated("..\\evil.txt", TEXT), host: DOS, mode: 0 }]),
  "E_PATH_ESCAPE-backslash-unix": () => buildZip([deflated("a/..\\..\\evil.txt", TEXT)]),
  "E_PATH_ESCAPE-nul": () => buildZip([deflated("ok.txt\0../../evil", TEXT)]),
  "E_PATH_ESCAPE-below-symlink": () =>
    buildZip([
      stored("link", Buffer.from("/tmp"), S_IFLNK | 0o777),
      deflated("link/evil.txt", TEXT),
    ]),
  "E_ZIP_DUPLICATE-names": () => buildZip([ok(), ok()]),
  "E_ZIP_DUPLICATE-normalised": () =>
    buildZip([deflated("a/b.txt", TEXT), deflated("a//./b.txt", TEXT)]),
  "E_ZIP_DUPLICATE-file-and-dir": () =>
    buildZip([deflated("x", TEXT), stored("x/", Buffer.alloc(0), S_IFDIR | 0o755)]),
  "E_ZIP_DUPLICATE-file-as-parent": () =>
    buildZip([deflated("x", TEXT), deflated("x/y.txt", TEXT)]),
  "E_ZIP_SIZE_MISMATCH-longer": () => lying(500),
  "E_ZIP_SIZE_MISMATCH-shorter": () => lying(2000),
  "E_ZIP_SIZE_MISMATCH-stored": () =>
    buildZip([{ ...stored("s.txt", TEXT), usize: TEXT.length + 7 }]),
  "E_ZIP_BOMB-ratio": ratioBomb,
  "E_ZIP_BOMB-overlap": overlapping,
  "E_ZIP_CORRUPT-truncated": () => {
    const z = buildZip([ok(), deflated("more.txt", TEXT)]);
    return z.subarray(0, Math.floor(z.length / 2));
  },
  "E_ZIP_CORRUPT-not-a-zip": () => Buffer.from("PK\x03\x04 this is not really a zip file\n"),
  "E_ZIP_CORRUPT-bad-deflate": () =>
    buildZip([
      { ...deflated("bad.txt", TEXT), stored: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]) },
    ]),
  "E_ZIP_CORRUPT-crc": () => buildZip([{ ...deflated("crc.txt", TEXT), crc: 0x12345678 }]),
  "E_ZIP_CORRUPT-local-header": () => {
    const z = buildZip([ok()]);
    z.writeUInt32LE(0x01020304, 0);
    return z;
  },
  "E_UNSUPPORTED-encrypted": () => buildZip([{ ...deflated("secret.txt", TEXT), flags: 1 }]),
  "E_UNSUPPORTED-method-bzip2": () => buildZip([{ ...deflated("b.txt", TEXT), method: 12 }]),
  "E_UNSUPPORTED-fifo": () => buildZip([stored("fifo", Buffer.alloc(0), S_IFIFO | 0o644)]),
};

function main(): void {
  const out = process.argv[2] ?? path.join("spec", "fixtures", "bad");
  fs.mkdirSync(out, { recursive: true });
  for (const [name, make] of Object.entries(fixtures)) {
    const bytes = make();
    fs.writeFileSync(path.join(out, `${name}.zip`), bytes);
    console.log(`${name}.zip  ${bytes.length} bytes`);
  }
}

main();
