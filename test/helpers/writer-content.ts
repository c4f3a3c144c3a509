/** Deterministic file contents for the writer tests: shared pieces so dedup happens. */
import { createHash } from "node:crypto";

const PIECES = [0, 1, 2, 3].map((k) => expand(`piece${k}`, 40_000));

/** `n` pseudo-random bytes derived from `seed`. */
export function expand(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash("sha256").update(seed).digest();
  for (let at = 0; at < n; at += 32) {
    block.copy(out, at);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/** The content the crash child writes into file `name`. */
export function fileContent(name: string): Buffer {
  const h = createHash("sha256").update(name).digest();
  const parts: Buffer[] = [];
  for (let i = 0; i < 1 + (h[0]! % 4); i++) {
    parts.push(
      h[i + 1]! % 2 === 0 ? PIECES[h[i + 5]! % 4]! : expand(`${name}/${i}`, 1 + h[i + 9]! * 300),
    );
  }
  return Buffer.concat(parts);
}
