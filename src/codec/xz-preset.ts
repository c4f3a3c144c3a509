/**
 * The xz presets 0..9 spelled out as LZMA2 options (as liblzma's lzma_lzma_preset),
 * with one change: the dictionary is never larger than the input (rounded up to a
 * power of two, at least 64 KiB). A dictionary beyond the input cannot find more
 * matches, so the output is the same, but preset 9 then needs tens of MiB of encoder
 * memory for a 4 MiB super-chunk instead of 674 MiB.
 */
import lzma from "lzma-native";

/** Dictionary exponent of each preset: 256 KiB .. 64 MiB. */
const DICT_LOG = [18, 20, 21, 22, 22, 23, 23, 24, 25, 26];
/** Search depth of the fast presets 0..3. */
const FAST_DEPTH = [4, 8, 24, 48];
const DICT_LOG_MIN = 16;

/** LZMA2 filter options for `preset`, sized for `rawLength` input bytes. */
export function xzLzma2Options(preset: number, rawLength: number): Record<string, number> {
  const fitLog = Math.max(DICT_LOG_MIN, Math.ceil(Math.log2(Math.max(rawLength, 1))));
  const dictSize = 2 ** Math.min(DICT_LOG[preset]!, fitLog);
  const common = { dictSize, lc: 3, lp: 0, pb: 2 };
  if (preset <= 3) {
    return {
      ...common,
      mode: lzma.MODE_FAST,
      mf: preset === 0 ? lzma.MF_HC3 : lzma.MF_HC4,
      niceLen: preset <= 1 ? 128 : 273,
      depth: FAST_DEPTH[preset]!,
    };
  }
  const niceLen = preset === 4 ? 16 : preset === 5 ? 32 : 64;
  return { ...common, mode: lzma.MODE_NORMAL, mf: lzma.MF_BT4, niceLen, depth: 0 };
}
