/** The part of lzma-native (which ships no types) that the xz codec uses. */
declare module "lzma-native" {
  import type { Duplex } from "node:stream";

  export interface LzmaStreamOptions {
    /** 0..9, optionally OR-ed with PRESET_EXTREME */
    preset?: number;
    /** CHECK_NONE | CHECK_CRC32 | CHECK_CRC64 | CHECK_SHA256 */
    check?: number;
    /** decoder memory limit in bytes */
    memlimit?: number;
    flags?: number;
    /** use liblzma's multi-threaded encoder (writes sizes into block headers) */
    threads?: number;
    /** largest uncompressed block of the multi-threaded encoder */
    blockSize?: number;
    synchronous?: boolean;
    bufsize?: number;
    /** filter chain of streamEncoder / rawEncoder */
    filters?: { id: string; options?: Record<string, number> }[];
  }

  export function createStream(
    coder: "easyEncoder" | "streamEncoder" | "streamDecoder" | "autoDecoder",
    options?: LzmaStreamOptions,
  ): Duplex;
  export function versionString(): string;

  export const CHECK_NONE: number;
  export const CHECK_CRC32: number;
  export const PRESET_EXTREME: number;
  export const FILTER_LZMA2: string;
  export const MODE_FAST: number;
  export const MODE_NORMAL: number;
  export const MF_HC3: number;
  export const MF_HC4: number;
  export const MF_BT4: number;
}
