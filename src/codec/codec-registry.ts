/**
 * The codec registry: importing this module registers every built-in codec
 * (none, zstd, xz, lz4), then {@link getCodec} finds them by name or on-disk id.
 */
import "./none.js";
import "./zstd.js";
import "./xz.js";
import "./lz4.js";

export { codecNames, getCodec } from "./codec-table.js";
