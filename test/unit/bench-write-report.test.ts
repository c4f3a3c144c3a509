/**
 * The write columns' table (scripts/bench/write-bench.ts): spreads over the runs as
 * median (min–max), ratios of medians to the disk and to a fresh pack, the read-back through
 * a read-write mount and its ratio to the read-only mount's, the compaction after unmount.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spreadOf } from "../../scripts/bench/spread.js";
import { formatWriteReport, type WriteRow } from "../../scripts/bench/write-bench.js";

const s = (...v: number[]) => spreadOf(v)!;

test("bench write report - medians, ranges, ratios, the read-write read-all row", () => {
  const rows: WriteRow[] = [
    {
      target: "disk",
      copy: s(1, 2, 3),
      read: s(1, 1, 1),
      readBytes: 10,
      repackSeconds: null,
      repackedBytes: null,
      notes: [],
    },
    {
      target: "bindfs",
      readBytes: null,
      repackSeconds: null,
      repackedBytes: null,
      notes: ["no bindfs"],
    },
    {
      target: "superchunk",
      copy: s(5, 6, 4),
      read: s(2, 2, 2),
      rwRead: s(2.2, 2.4, 2.2),
      compact: s(30, 40, 35),
      store: s(1100, 1000, 1200),
      readBytes: 10,
      repackSeconds: 12.34,
      repackedBytes: 1000,
      notes: [],
    },
  ];
  const out = formatWriteReport(rows, 1000);
  assert.match(out, "| disk | 2.00 (1.00–3.00) | 1.00 | 1.00 (1.00–1.00) | 1.00 |");
  assert.match(out, "| bindfs | – | – | – | – | – | – |");
  assert.match(
    out,
    "| superchunk (store after cp -a and the compaction at unmount) | 5.00 (4.00–6.00) | 2.50 | 2.00 (2.00–2.00) | 2.00 | 1100 (1000–1200) | 1.10 |",
  );
  assert.match(
    out,
    "| superchunk, read back through a read-write mount | | | 2.20 (2.20–2.40) | 2.20 | | |",
  );
  assert.match(out, "| superchunk after repack --all (12.3 s) | | | | | 1000 | 1.00 |");
  assert.match(out, "- read-write mount read-all ÷ read-only mount read-all: 1.10");
  assert.match(out, "ran 35.0 (30.0–40.0) s after umount returned");
  assert.match(out, "- bindfs: no bindfs");
});

test("bench write report - no pack to compare: dashes, not NaN", () => {
  const rows: WriteRow[] = [
    {
      target: "superchunk",
      store: s(5),
      readBytes: null,
      repackSeconds: null,
      repackedBytes: null,
      notes: [],
    },
  ];
  const out = formatWriteReport(rows, null);
  assert.not.match(out, "NaN");
  assert.match(out, "| 5 | – |");
});

test.run();
