/**
 * Names as fuse-native can carry them. fuse-native hands paths to JS as strings decoded from
 * UTF-8 (invalid bytes become U+FFFD) and takes names and symlink targets back as JS strings it
 * encodes as UTF-8, so raw bytes cannot cross it. A name that is valid UTF-8 is shown as is; any
 * other name is shown with each byte that is not part of a valid UTF-8 sequence written as
 * `\xNN`, which the kernel then sends back verbatim and the resolver maps to the stored name.
 */
import { isUtf8 } from "node:buffer";

/** The string shown for a stored name (or symlink target) of raw bytes. */
export function displayName(raw: Buffer): string {
  if (isUtf8(raw)) return raw.toString("utf8");
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const n = sequenceLength(raw[i]!);
    if (n > 0 && i + n <= raw.length && isUtf8(raw.subarray(i, i + n))) {
      out += raw.toString("utf8", i, i + n);
      i += n;
    } else {
      out += `\\x${raw[i]!.toString(16).padStart(2, "0")}`;
      i++;
    }
  }
  return out;
}

/** True when `shown` may be an escaped name, worth the slow fallback lookup. */
export function mayBeEscaped(shown: string): boolean {
  return /\\x[0-9a-f]{2}/.test(shown);
}

/** Length of the UTF-8 sequence a lead byte announces; 0 for a byte that cannot lead. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}
