import { test } from "uvu";
import * as assert from "uvu/assert";
import { isCode } from "../../src/errors.js";
import { hashFromHex, hashSubBlock, hashToHex } from "../../src/hash/sub-block-hash.js";

test("hash - sha256 of known input", () => {
  const h = hashSubBlock(Buffer.from("abc"));
  assert.is(hashToHex(h), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("hash - hex round trip and rejection", () => {
  const h = hashSubBlock(Buffer.from("x"));
  assert.ok(hashFromHex(hashToHex(h)).equals(h));
  try {
    hashFromHex("zz");
    assert.unreachable();
  } catch (e) {
    assert.ok(isCode(e, "E_BAD_MAGIC"));
  }
});

test.run();
