import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatBytes, parseInteger, parseSize } from "../../src/cli/args.js";
import { isCode } from "../../src/errors.js";

test("cli-args - sizes with units", () => {
  assert.is(parseSize("4M", "--x"), 4 * 1024 * 1024);
  assert.is(parseSize("32K", "--x"), 32 * 1024);
  assert.is(parseSize("1g", "--x"), 1024 ** 3);
  assert.is(parseSize("512MiB", "--x"), 512 * 1024 * 1024);
  assert.is(parseSize("4096", "--x"), 4096);
  assert.is(parseSize("0", "--x", { zero: true }), 0);
  assert.is(parseSize("0M", "--x", { zero: true }), 0);
  for (const bad of ["", "lots", "-1M", "0", "4X", "0.0000001"]) {
    try {
      parseSize(bad, "--x");
      assert.unreachable(bad);
    } catch (e) {
      assert.ok(isCode(e, "E_USAGE"), bad);
    }
  }
  try {
    parseSize("-0.5K", "--x", { zero: true });
    assert.unreachable("negative");
  } catch (e) {
    assert.ok(isCode(e, "E_USAGE"));
  }
});

test("cli-args - integers within bounds", () => {
  assert.is(parseInteger("19", "--level", 1, 22), 19);
  for (const bad of ["23", "1.5", "x", ""]) {
    try {
      parseInteger(bad, "--level", 1, 22);
      assert.unreachable(bad);
    } catch (e) {
      assert.ok(isCode(e, "E_USAGE"), bad);
    }
  }
  assert.is(formatBytes(1536), "1.50 KiB");
  assert.is(formatBytes(12), "12 B");
});

test.run();
