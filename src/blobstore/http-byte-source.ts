/**
 * An archive on a web server as a ByteSource: every read is one `Range: bytes=a-b`
 * GET over a keep-alive connection. The first request asks for the archive's tail
 * (a suffix range), which gives the total length and usually holds the whole zip
 * central directory and the metadata entry, so opening a small archive takes one
 * round trip.
 *
 * Errors: a 200 answer to a ranged request (the server ignores Range) or
 * `Accept-Ranges: none` is E_HTTP_NO_RANGE; a 4xx such as 404 is E_HTTP naming the
 * URL and status; a request idle for `timeoutMs` is E_TIMEOUT. Transient failures
 * (5xx, 408, 429, connection resets and refusals, timeouts, truncated bodies) are
 * retried with exponential backoff, `retries` times.
 */
import * as http from "node:http";
import * as https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineError, IoError, UsageError } from "../errors.js";
import type { ByteSource, TransferStats } from "./byte-source.js";

/** Options of an HttpByteSource; every field has a default. */
export interface HttpSourceOptions {
  /** ms a request may wait for an answer or for more body bytes before E_TIMEOUT; default 30 000 */
  timeoutMs?: number;
  /** how many times a transient failure is retried; default 4 */
  retries?: number;
  /** delay before the first retry in ms, doubled for each further one; default 200 */
  backoffMs?: number;
  /**
   * parallel connections to the server; default 24 (a reader fetching ahead keeps up to
   * 16 requests in flight and leaves the rest for the reads it waits for)
   */
  maxSockets?: number;
  /** bytes of the archive's tail fetched by the first request; default 256 KiB */
  tailBytes?: number;
}

const DEFAULTS: Required<HttpSourceOptions> = {
  timeoutMs: 30_000,
  retries: 4,
  backoffMs: 200,
  maxSockets: 24,
  tailBytes: 256 * 1024,
};

const TRANSIENT_SYS = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** One 206 answer: bytes [start, start + body.length) of an archive of `total` bytes. */
interface RangeReply {
  readonly start: number;
  readonly total: number;
  readonly etag: string | undefined;
  readonly body: Buffer;
}

/** True when `location` is an http(s) URL. */
export function isHttpUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** A URL read with HTTP Range requests. */
export class HttpByteSource implements ByteSource {
  readonly location: string;
  readonly remote = true;
  private readonly url: URL;
  private readonly opts: Required<HttpSourceOptions>;
  private readonly agent: http.Agent;
  private readonly counters: TransferStats = { bytesFetched: 0, requests: 0, retries: 0 };
  /** the tail fetched by the first request, kept to answer reads inside it */
  private tail: Promise<RangeReply> | undefined;
  private etag: string | undefined;
  private closed = false;

  constructor(location: string, opts: HttpSourceOptions = {}) {
    this.location = location;
    if (!isHttpUrl(location))
      throw new UsageError("E_USAGE", `${location}: not an http(s) URL`, { url: location });
    this.url = new URL(location);
    this.opts = { ...DEFAULTS, ...opts };
    const AgentClass = this.url.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets: this.opts.maxSockets });
  }

  async size(): Promise<number> {
    return (await this.fetchTail()).total;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const tail = await this.fetchTail();
    if (offset < 0 || offset + length > tail.total) {
      throw new IoError("E_IO", `${this.location}: read past the end (${offset}+${length})`, {
        url: this.location,
        offset,
        length,
      });
    }
    if (length === 0) return Buffer.alloc(0);
    if (offset >= tail.start)
      return tail.body.subarray(offset - tail.start, offset - tail.start + length);
    const reply = await this.fetch(`bytes=${offset}-${offset + length - 1}`, offset);
    if (reply.body.length !== length || reply.total !== tail.total) {
      throw this.badReply(`asked for ${length} bytes at ${offset}, got ${reply.body.length}`);
    }
    return reply.body;
  }

  stats(): TransferStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }

  private fetchTail(): Promise<RangeReply> {
    this.tail ??= this.fetch(`bytes=-${this.opts.tailBytes}`, undefined);
    return this.tail;
  }

  /** One ranged GET, retried on transient failures with exponential backoff. */
  private async fetch(range: string, start: number | undefined): Promise<RangeReply> {
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.once(range, start);
        this.checkEtag(reply);
        return reply;
      } catch (err) {
        if (this.closed || !isTransient(err) || attempt >= this.opts.retries) throw err;
        this.counters.retries++;
        await sleep(this.opts.backoffMs * 2 ** attempt);
      }
    }
  }

  private once(range: string, start: number | undefined): Promise<RangeReply> {
    const get = this.url.protocol === "https:" ? https.get : http.get;
    return new Promise<RangeReply>((resolve, reject) => {
      const req = get(
        this.url,
        { agent: this.agent, headers: { Range: range, "Accept-Encoding": "identity" } },
        (res) => this.answer(res, start).then(resolve, reject),
      );
      req.setTimeout(this.opts.timeoutMs, () => req.destroy(this.timeoutError(range)));
      req.on("error", (err) => reject(this.networkError(err)));
      this.counters.requests++;
    });
  }

  /** Checks the status and headers of an answer and collects its body. */
  private async answer(res: http.IncomingMessage, start: number | undefined): Promise<RangeReply> {
    const status = res.statusCode ?? 0;
    if (status !== 206) {
      res.destroy(); // never download a whole archive by accident
      throw this.statusError(status, res.headers["accept-ranges"]);
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers["content-range"] ?? "");
    if (!m) {
      res.destroy();
      throw this.badReply(`bad Content-Range ${JSON.stringify(res.headers["content-range"])}`);
    }
    const [from, to, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (start !== undefined && from !== start) {
      res.destroy();
      throw this.badReply(`asked for bytes from ${start}, got from ${from}`);
    }
    const body = await this.collect(res, to - from + 1);
    const etag = res.headers.etag;
    return { start: from, total, etag: etag === undefined ? undefined : String(etag), body };
  }

  private collect(res: http.IncomingMessage, expected: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let got = 0;
      res.on("data", (chunk: Buffer) => {
        parts.push(chunk);
        got += chunk.length;
        this.counters.bytesFetched += chunk.length;
      });
      res.on("error", (err) => reject(this.networkError(err)));
      res.on("end", () => {
        if (!res.complete || got !== expected) {
          const e = this.badReply(`body of ${got} bytes, ${expected} announced`);
          reject(new IoError("E_IO", e.message, { ...e.data, transient: true }));
        } else resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, got));
      });
    });
  }

  /** An archive must not change while read: every answer carries the first answer's ETag. */
  private checkEtag(reply: RangeReply): void {
    if (reply.etag === undefined) return;
    this.etag ??= reply.etag;
    if (reply.etag !== this.etag) {
      throw new IoError("E_HTTP", `${this.location}: the archive changed on the server`, {
        url: this.location,
        etag: reply.etag,
        was: this.etag,
      });
    }
  }

  private statusError(status: number, acceptRanges: string | undefined): EngineError {
    const url = this.location;
    if (status === 200 || (status < 300 && acceptRanges === "none")) {
      return new IoError(
        "E_HTTP_NO_RANGE",
        `${url}: the server does not serve byte ranges (answered ${status} to a Range request)`,
        { url, status },
      );
    }
    const transient = status >= 500 || status === 408 || status === 429;
    return new IoError("E_HTTP", `${url}: HTTP ${status}`, { url, status, transient });
  }

  private badReply(what: string): IoError {
    return new IoError("E_HTTP", `${this.location}: unexpected answer: ${what}`, {
      url: this.location,
    });
  }

  private timeoutError(range: string): IoError {
    const ms = this.opts.timeoutMs;
    return new IoError("E_TIMEOUT", `${this.location}: no answer within ${ms} ms (${range})`, {
      url: this.location,
      timeoutMs: ms,
      transient: true,
    });
  }

  private networkError(err: unknown): EngineError {
    if (err instanceof EngineError) return err;
    const sys = (err as NodeJS.ErrnoException).code;
    const detail = err instanceof Error ? err.message : String(err);
    const transient = sys === undefined || TRANSIENT_SYS.has(sys);
    return new IoError(
      "E_IO",
      `${this.location}: ${detail}`,
      { url: this.location, sys, transient },
      err,
    );
  }
}

/** True for failures worth another try. */
function isTransient(err: unknown): boolean {
  return err instanceof EngineError && err.data.transient === true;
}

HttpByteSource satisfies new (
  location: string,
  opts?: HttpSourceOptions,
) => ByteSource;
