import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { inflateSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { statsCommand } from "../../src/cli/cmd-stats.js";
import { isCode } from "../../src/errors.js";
import { packTree } from "../../src/pack/pack.js";
import { fileInfo, formatFileInfo } from "../../src/reader/file-info.js";
import { pathStats, storeStats } from "../../src/stats/stats.js";
import { renderStatsHtml } from "../../src/stats/stats-html.js";
import { openStore } from "../../src/store/store-layout.js";
import type { InodeId } from "../../src/types.js";
import { captureIO } from "../helpers/cli-capture.js";
import { cleanupTmp, makeSampleTree, tmpDir } from "../helpers/tree.js";

test.after(cleanupTmp);

let fixture: { src: string; store: string } | undefined;

/** One packed sample store shared by the tests (read-only here). */
async function packed(): Promise<{ src: string; store: string }> {
  if (fixture) return fixture;
  const root = tmpDir("stats");
  const src = path.join(root, "src");
  fs.mkdirSync(src);
  makeSampleTree(src);
  const store = path.join(root, "store");
  await packTree(src, store, { threads: 2, superChunkBytes: 512 * 1024 });
  fixture = { src, store };
  return fixture;
}

test("stats - store figures agree with the metadata", async () => {
  const { store } = await packed();
  const s = storeStats(store);
  const { meta } = openStore(store, { readonly: true });
  try {
    const m = meta.stats();
    assert.is(s.logicalBytes, m.logicalBytes);
    assert.is(s.uniqueBytes, m.uniqueBytes);
    assert.is(s.storedBytes, m.storedBytes);
    assert.is(s.superChunkCount, m.superChunks);
    assert.is(s.files, meta.countInodes().files);
  } finally {
    meta.close();
  }
  assert.ok(s.dedupRatio > 2, "three copies of big.bin dedup");
  assert.is(s.deadBytes, 0);
  assert.is(s.repackCandidates, 0);
  const inBuckets = s.sharing.reduce((a, b) => a + b.subBlocks, 0);
  assert.is(
    inBuckets,
    s.superChunks.reduce((a, c) => a + c.subBlocks, 0),
  );
  assert.ok(
    s.superChunkRaw.min <= s.superChunkRaw.median && s.superChunkRaw.median <= s.superChunkRaw.max,
  );
  const attributed = s.byTopDir.reduce((a, d) => a + d.storedBytes, 0);
  assert.ok(Math.abs(attributed - s.storedBytes) < 1, `${attributed} vs ${s.storedBytes}`);
  for (let i = 1; i < s.topFiles.length; i++) {
    assert.ok(s.topFiles[i - 1]!.uniqueBytes >= s.topFiles[i]!.uniqueBytes);
  }
});

test("stats - a copy shares everything, an edited copy has a few unique bytes", async () => {
  const { store } = await packed();
  const copy = pathStats(store, "a/b/c/copy-of-big.bin");
  assert.is(copy.usage.uniqueBytes, 0);
  assert.is(copy.usage.sharedBytes, copy.usage.logicalBytes);
  const v2 = pathStats(store, "a/b/big-v2.bin");
  assert.ok(
    v2.usage.uniqueBytes > 0 && v2.usage.uniqueBytes < 300_000,
    String(v2.usage.uniqueBytes),
  );
  const holey = pathStats(store, "holey.bin");
  assert.ok(holey.usage.holes >= 1 && holey.usage.holeBytes >= 1024 * 1024 - 256 * 1024);
  const dir = pathStats(store, "a");
  assert.is(dir.kind, "dir");
  assert.is(dir.usage.files, 4);
});

test("stats - cold-read amplification is the raw size of the super-chunks a file touches", async () => {
  const { store } = await packed();
  const p = pathStats(store, "a/b/big.bin");
  const { meta } = openStore(store, { readonly: true });
  try {
    const ino = meta.resolvePath("a/b/big.bin")!;
    const ids = new Set(
      meta.resolveExtents(meta.getInode(ino)!.content!).map((e) => e.superChunk!),
    );
    const raw = [...ids].reduce((a, id) => a + meta.getSuperChunk(id)!.rawBytes, 0);
    assert.equal(
      p.superChunks.map((s) => s.id),
      [...ids].sort((a, b) => a - b),
    );
    assert.is(p.coldRead.inflatedBytes, raw);
    assert.is(p.coldRead.readAmplification, raw / p.usage.logicalBytes);
    const info = fileInfo(meta, ino as InodeId)!;
    assert.is(info.uniqueBytes, p.usage.uniqueBytes);
    assert.is(info.sharedBytes, p.usage.sharedBytes);
    assert.is(info.superChunks.length, ids.size);
    const xattr = JSON.parse(formatFileInfo(info));
    assert.is(xattr.version, 1);
    assert.is(xattr.sizeBytes, info.size);
    assert.equal(xattr.superChunkIds, info.superChunks);
    assert.is(xattr.uniqueBytes, info.uniqueBytes);
    assert.is(fileInfo(meta, meta.resolvePath("a")!), undefined);
  } finally {
    meta.close();
  }
});

test("stats - CLI prints text and JSON, and names a missing path", async () => {
  const { store } = await packed();
  const t = captureIO({ env: {} });
  assert.is(await statsCommand.run([store], t.io), 0);
  assert.match(t.out(), /dedup \d+\.\d\dx/);
  const j = captureIO({ env: {} });
  assert.is(await statsCommand.run([store, "--json"], j.io), 0);
  const json = JSON.parse(j.out());
  assert.is(json.superChunkCount > 0, true);
  assert.is(json.storedBytes, json.superChunkBytes + json.metadataBytes);
  await statsCommand.run([store, "no/such/file"], captureIO({ env: {} }).io).then(
    () => assert.unreachable("a missing path is an error"),
    (err) => assert.ok(isCode(err, "E_NOT_FOUND"), String(err)),
  );
});

function chromium(): string | undefined {
  for (const c of ["chromium", "chromium-browser", "google-chrome"]) {
    if (spawnSync("which", [c]).status === 0) return c;
  }
  return undefined;
}

/** Non-white pixels of an 8-bit RGB/RGBA PNG (decoded with zlib; filters undone). */
function nonWhitePixels(png: Buffer): number {
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString("latin1", pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.is(data[8], 8, "8-bit PNG");
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
    } else if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  assert.ok(channels > 0, "RGB or RGBA PNG");
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  let prev = Buffer.alloc(stride);
  let count = 0;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const add = [0, a, b, (a + b) >> 1, paeth][f]!;
      line[x] = (line[x]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = x * channels;
      if (line[o]! < 240 || line[o + 1]! < 240 || line[o + 2]! < 240) count++;
    }
    prev = line;
  }
  return count;
}

/** The SVG of the chart of class `cls` in `html`. */
function chartOf(html: string, cls: string): string {
  const m = new RegExp(`<svg class="chart ${cls}"[\\s\\S]*?</svg>`).exec(html);
  assert.ok(m, `chart ${cls}`);
  return m![0];
}

/**
 * Every chart has axis titles (with a unit on byte axes), a legend, and round ticks: from 0
 * in equal steps of 1, 2 or 5 times a power of ten. The sharing chart shows identical whole
 * files as their own, non-empty series.
 */
function checkCharts(html: string): void {
  const texts = (svg: string, cls: string) =>
    [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, "g"))].map(
      (m) => m[1]!,
    );
  for (const cls of ["fill", "ratio", "sharing", "livedead", "dirs"]) {
    const svg = chartOf(html, cls);
    const titles = texts(svg, "axis-title");
    assert.is(titles.length, 2, `${cls}: two axis titles`);
    if (["sharing", "livedead", "dirs"].includes(cls))
      assert.ok(
        titles.some((t) => /\((B|KiB|MiB|GiB)\)$/.test(t)),
        `${cls}: unit in ${titles}`,
      );
    assert.ok(texts(svg, "legend").length >= 1, `${cls}: a legend`);
    const ticks = texts(svg, "tick").map(Number);
    assert.ok(ticks.length >= 2, `${cls}: ticks ${ticks}`);
    assert.is(ticks[0], 0, `${cls}: ticks from 0`);
    const step = ticks[1]! - ticks[0]!;
    const mant = step / 10 ** Math.floor(Math.log10(step));
    assert.ok(
      [1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9),
      `${cls}: step ${step}`,
    );
    for (const [i, t] of ticks.entries())
      assert.ok(Math.abs(t - i * step) < 1e-9 * step, `${cls}: ${ticks}`);
  }
  const sharing = chartOf(html, "sharing");
  assert.ok(texts(sharing, "legend").includes("identical whole files"));
  // the legend writes each name, then its swatch
  const legendRe =
    /<text class="legend"[^>]*>identical whole files<\/text><rect class="swatch"[^>]*fill="([^"]+)"/;
  const fill = legendRe.exec(sharing)?.[1];
  assert.ok(fill, "a swatch for identical whole files");
  const bars = [...sharing.matchAll(/<rect class="bar"[^>]*height="([\d.]+)" fill="([^"]+)"/g)];
  assert.ok(
    bars.some((m) => m[2] === fill && Number(m[1]) > 0),
    "identical whole files drawn",
  );
}

test("stats - whole-file duplicates are counted and charted apart", async () => {
  const { store } = await packed();
  const s = storeStats(store);
  // big.bin and a/b/c/copy-of-big.bin: one content, two files
  assert.ok(s.duplicateFiles.files >= 2, JSON.stringify(s.duplicateFiles));
  assert.ok(s.duplicateFiles.bytes >= 5 * 1024 * 1024, JSON.stringify(s.duplicateFiles));
  const whole = s.fileSharing.reduce((a, b) => a + b.wholeFileBytes, 0);
  assert.ok(whole >= 5 * 1024 * 1024, `whole-file bytes ${whole}`);
  assert.is(
    s.fileSharing.reduce((a, b) => a + b.bytes, 0),
    s.sharing.reduce((a, b) => a + b.bytes, 0),
    "the same bytes, bucketed by file references",
  );
  checkCharts(renderStatsHtml(s, store));
});

test("stats - the HTML report renders its SVG plots in headless Chromium", async () => {
  const { store } = await packed();
  const root = tmpDir("html");
  const html = path.join(root, "report.html");
  const t = captureIO({ env: {} });
  assert.is(await statsCommand.run([store, "--html", html, "--json"], t.io), 0);
  const page = fs.readFileSync(html, "utf8");
  assert.not.match(
    page,
    /https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
    "nothing fetched from the network",
  );
  assert.is(renderStatsHtml(storeStats(store), store), page);
  const bin = chromium();
  if (bin === undefined) {
    console.log(
      "stats - SKIPPED the Chromium render: no chromium on PATH (apt-get install chromium)",
    );
    return;
  }
  const common = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    `--user-data-dir=${path.join(root, "profile")}`,
  ];
  const dom = spawnSync(bin, [...common, "--dump-dom", `file://${html}`], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.is(dom.status, 0, dom.stderr);
  for (const cls of ["fill", "ratio", "sharing", "livedead", "dirs"]) {
    assert.match(dom.stdout, new RegExp(`<svg class="chart ${cls}"`), `${cls} plot in the DOM`);
  }
  assert.ok((dom.stdout.match(/<rect class="bar"/g) ?? []).length >= 10, "bars drawn");
  checkCharts(dom.stdout);
  const shot = path.join(root, "shot.png");
  const r = spawnSync(
    bin,
    [...common, `--screenshot=${shot}`, "--window-size=1200,1600", `file://${html}`],
    {
      timeout: 120_000,
    },
  );
  assert.is(r.status, 0, String(r.stderr));
  const inked = nonWhitePixels(fs.readFileSync(shot));
  assert.ok(inked > 20_000, `screenshot has ${inked} non-white pixels`);
});

test.run();
