/**
 * The mount pass of the mutation fuzz (test/unit/fuzz.test.ts): a smaller sample of the
 * same seeded cases (case i is the same damage in both), each damaged store or archive
 * mounted read-only through FUSE and read whole; the rules are in
 * test/helpers/fuzz-mount.ts. Environment: SUPERCHUNK_FUZZ_SEED, SUPERCHUNK_FUZZ_STRICT,
 * SUPERCHUNK_FUZZ_TIMEOUT_MS as the unit fuzz; SUPERCHUNK_FUZZ_MOUNT_COUNT cases (default
 * 40: every kind once, then some twice).
 */
import * as fs from "node:fs";
import * as assert from "uvu/assert";
import {
  ALL_KINDS,
  buildFuzzFixture,
  type FuzzFixture,
  kindLabel,
  prepareCase,
} from "../helpers/fuzz-fixture.js";
import { judgeMount, type MountOutcome, type MountVerdict } from "../helpers/fuzz-mount.js";
import { mountDir } from "../helpers/mount.js";
import { suiteNeeding } from "../helpers/services.js";
import { tmpDir } from "../helpers/tree.js";

const { test, t, skip } = suiteNeeding("fuzz-mount", ["fuse"]);

const env = process.env;
const SEED = Number(env.SUPERCHUNK_FUZZ_SEED ?? 15);
const COUNT = Number(env.SUPERCHUNK_FUZZ_MOUNT_COUNT ?? 40);
const STRICT = env.SUPERCHUNK_FUZZ_STRICT !== "0";
const TIMEOUT_MS = Number(env.SUPERCHUNK_FUZZ_TIMEOUT_MS ?? 15_000);

let fx: FuzzFixture;

test.before(async () => {
  if (skip) return;
  fx = await buildFuzzFixture();
});

t("fuzz-mount - the pristine store and archive mount and read identical", async () => {
  for (const target of [fx.store, fx.archive]) {
    const v = await judgeMount(fx.src, target, mountDir("fuzz-mnt"), TIMEOUT_MS);
    assert.is(v.outcome, "identical", `${target}: ${v.why}`);
  }
});

t(
  `fuzz-mount - ${COUNT} seeded damaged copies read through a mount: EIO or the source's bytes`,
  async () => {
    const dir = tmpDir("fuzz-mount");
    const rows: { index: number; label: string; what: string; v: MountVerdict }[] = [];
    for (let i = 0; i < COUNT; i++) {
      const c = prepareCase(fx, ALL_KINDS, SEED, i, dir);
      const v = await judgeMount(fx.src, c.target, mountDir("fuzz-mnt"), TIMEOUT_MS);
      rows.push({ index: i, label: kindLabel(c.kind), what: c.what, v });
      fs.rmSync(c.scratch, { recursive: true, force: true });
    }
    const outcomes: MountOutcome[] = ["identical", "EIO", "refused", "VIOLATION"];
    const labels = [...new Set(rows.map((r) => r.label))];
    const width = Math.max(...labels.map((l) => l.length));
    const lines = labels.map((l) => {
      const mine = rows.filter((r) => r.label === l);
      const counts = outcomes.map((o) =>
        String(mine.filter((r) => r.v.outcome === o).length).padEnd(o.length),
      );
      const first = mine.find((r) => r.v.outcome === "VIOLATION");
      return `${l.padEnd(width)} | ${counts.join(" | ")} | ${first ? first.v.why.slice(0, 110) : ""}`;
    });
    console.log(`\nfuzz-mount: seed ${SEED}, ${COUNT} cases`);
    console.log(`${"mutation kind".padEnd(width)} | ${outcomes.join(" | ")} | first violation`);
    console.log(lines.join("\n"));
    const bad = rows.filter((r) => r.v.outcome === "VIOLATION");
    for (const r of bad) console.log(`#${r.index} ${r.label}: ${r.what}\n    mount: ${r.v.why}`);
    if (!STRICT) return;
    assert.is(
      bad.length,
      0,
      `${bad.length} of ${COUNT} damaged copies were served wrongly through a mount (kinds: ${[...new Set(bad.map((r) => r.label))].join(", ")}); ` +
        "set SUPERCHUNK_FUZZ_STRICT=0 to report without failing.",
    );
  },
);

test.run();
