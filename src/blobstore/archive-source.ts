/**
 * Opening an archive by location: byte sources are registered by URL scheme
 * (http:, https:) with a local file as the fallback, and a location is recognised
 * as an archive by content (the zip magic), not by its extension.
 */
import * as fs from "node:fs";
import { type ByteSource, FileByteSource } from "./byte-source.js";
import { HttpByteSource, type HttpSourceOptions, isHttpUrl } from "./http-byte-source.js";
import { ZipBlobStore } from "./zip-blob-store.js";

/** Options of the byte sources an archive may be read from. */
export interface ArchiveSourceOptions {
  /** for http(s) URLs */
  http?: HttpSourceOptions;
}

type SourceFactory = (location: string, opts: ArchiveSourceOptions) => ByteSource;

const BY_SCHEME = new Map<string, SourceFactory>([
  ["http:", (loc, o) => new HttpByteSource(loc, o.http)],
  ["https:", (loc, o) => new HttpByteSource(loc, o.http)],
]);

/** True when `location` is a URL some registered byte source serves. */
export function isRemoteLocation(location: string): boolean {
  return isHttpUrl(location);
}

/** The byte source for `location`: by URL scheme, else a local file. */
export function byteSourceFor(location: string, opts: ArchiveSourceOptions = {}): ByteSource {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(location)?.[1]?.toLowerCase();
  const factory = scheme === undefined ? undefined : BY_SCHEME.get(scheme);
  return factory ? factory(location, opts) : new FileByteSource(location);
}

/** Whole entries a remote archive keeps, so a deeper partial inflate does not fetch again. */
const REMOTE_RECENT_BYTES = 32 * 1024 * 1024;

/** Opens the archive at `location` (a file path or URL) as a read-only BlobStore. */
export function openArchive(
  location: string,
  opts: ArchiveSourceOptions = {},
): Promise<ZipBlobStore> {
  const recentBytes = isRemoteLocation(location) ? REMOTE_RECENT_BYTES : 0;
  return ZipBlobStore.open(byteSourceFor(location, opts), { recentBytes });
}

const ZIP_MAGICS = [0x04034b50, 0x06054b50, 0x06064b50];

/** True when the local file `file` starts like a zip file (local header or empty-zip end record). */
export function looksLikeZipFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && ZIP_MAGICS.includes(head.readUInt32LE(0));
  } finally {
    fs.closeSync(fd);
  }
}
