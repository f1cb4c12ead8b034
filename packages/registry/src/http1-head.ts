/**
 * HTTP/1.1 messages as the bulk connection writes and reads them (RFC 9112): the request head,
 * refusing anything that could split it; the answer head(s), refusing anything ambiguous about
 * where the body ends (the ground of response smuggling); and whether the connection may carry
 * another request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { FerryError } from '@ferry/oci';
import { RegistryErrorCode } from './errors.js';
import { ChunkedDecoder, CloseDecoder, LengthDecoder, type BodyDecoder } from './http1-framing.js';

/** All answer heads together (informational ones included) may not be larger than this. */
export const MAX_HEAD = 64 * 1024;
const STATUS_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers that describe the connection or a request body: the connection sets them itself. */
const OWN_HEADERS = new Set([
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
]);

export interface ParsedHead {
  status: number;
  headers: IncomingHttpHeaders;
  decoder: BodyDecoder;
  /** Bytes of `head` the heads took (informational answers included). */
  length: number;
  /** The server lets the connection carry another request after this answer. */
  keepAlive: boolean;
}

/** The final answer's head at the start of `bytes`, or undefined if it is not complete yet. */
export function parseHeads(bytes: Buffer, subject: string): ParsedHead | undefined {
  let start = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', start, 'latin1');
    if (end < 0) {
      // Something else than HTTP/1 (an HTTP/2 frame, another protocol's greeting) may never send
      // a blank line: refuse it by its first bytes instead of waiting for the idle timeout.
      const seen = Math.min(bytes.byteLength - start, STATUS_PREFIX.byteLength);
      if (bytes.compare(STATUS_PREFIX, 0, seen, start, start + seen) !== 0) {
        const lineEnd = bytes.indexOf('\r\n', start, 'latin1');
        throw notHttp1(subject, bytes.toString('latin1', start, lineEnd < 0 ? undefined : lineEnd));
      }
      if (bytes.byteLength > MAX_HEAD) throw protocolError(subject, 'the answer head is too large');
      return undefined;
    }
    if (end + 4 > MAX_HEAD) throw protocolError(subject, 'the answer head is too large');
    const lines = bytes.toString('latin1', start, end).split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(lines[0] ?? '');
    if (!statusLine) throw notHttp1(subject, lines[0] ?? '');
    const status = Number(statusLine[2]);
    const headers = parseHeaderLines(lines.slice(1), subject);
    start = end + 4;
    // 100 Continue, 103 Early Hints: the answer is still to come.
    if (status >= 100 && status < 200) {
      if (status === 101) throw protocolError(subject, 'the server switched protocols');
      continue;
    }
    const http10 = statusLine[1] === '0';
    // Chunked coding is HTTP/1.1's: on an HTTP/1.0 answer it is faulty framing (RFC 9112 §6.1).
    if (http10 && headers['transfer-encoding'] !== undefined) {
      throw protocolError(subject, 'an HTTP/1.0 answer with Transfer-Encoding');
    }
    const decoder = bodyDecoder(status, headers, subject);
    const tokens = String(headers.connection ?? '').toLowerCase();
    // A 204 or 304 that announced a body may send one anyway: its connection is not kept.
    const framedEmpty =
      (status === 204 || status === 304) &&
      (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined);
    const keepAlive =
      !(decoder instanceof CloseDecoder) &&
      !framedEmpty &&
      !/\bclose\b/.test(tokens) &&
      (!http10 || /\bkeep-alive\b/.test(tokens));
    return { status, headers, decoder, length: start, keepAlive };
  }
}

function parseHeaderLines(lines: string[], subject: string): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // Folded lines (obsolete) and names with spaces are how responses get smuggled: refuse them.
    if (!TOKEN.test(name))
      throw protocolError(subject, `bad header line ${JSON.stringify(line.slice(0, 40))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (INVALID_VALUE.test(value)) throw protocolError(subject, `bad value of header ${name}`);
    const key = name.toLowerCase();
    const seen = headers[key];
    // As undici: a repeated header is a list of its values.
    if (seen === undefined) headers[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[key] = [seen, value];
  }
  return headers as IncomingHttpHeaders;
}

/** Where the body ends (RFC 9112 §6.3), refusing anything ambiguous. */
function bodyDecoder(status: number, headers: IncomingHttpHeaders, subject: string): BodyDecoder {
  const length = headers['content-length'];
  const coding = headers['transfer-encoding'];
  if (status === 204 || status === 304) return new LengthDecoder(0);
  if (coding !== undefined) {
    if (length !== undefined) {
      throw protocolError(subject, 'the answer has both Content-Length and Transfer-Encoding');
    }
    if (typeof coding !== 'string' || coding.trim().toLowerCase() !== 'chunked') {
      throw protocolError(subject, `unsupported Transfer-Encoding ${JSON.stringify(coding)}`);
    }
    return new ChunkedDecoder();
  }
  if (length === undefined) return new CloseDecoder();
  if (typeof length !== 'string' || !/^\d{1,15}$/.test(length)) {
    throw protocolError(subject, `bad Content-Length ${JSON.stringify(length)}`);
  }
  return new LengthDecoder(Number(length));
}

/** The request line and headers; refuses what could split the request (as undici does). */
export function requestHead(
  method: string,
  url: URL,
  headers: Record<string, string | string[]>,
  chunked: boolean,
  keepAlive: boolean,
): string {
  let host = url.host;
  let lines = '';
  for (const [name, values] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (!TOKEN.test(name) || OWN_HEADERS.has(key)) {
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `invalid request header ${JSON.stringify(name)}`,
      );
    }
    for (const value of Array.isArray(values) ? values : [values]) {
      if (INVALID_VALUE.test(value)) {
        throw new FerryError(RegistryErrorCode.Protocol, `invalid value of request header ${name}`);
      }
      if (key === 'host') host = value;
      else lines += `${name}: ${value}\r\n`;
    }
  }
  if (chunked) lines += 'transfer-encoding: chunked\r\n';
  const connection = keepAlive ? '' : 'connection: close\r\n';
  return `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${host}\r\n${lines}${connection}\r\n`;
}

function notHttp1(subject: string, firstLine: string): FerryError {
  return protocolError(
    subject,
    `not an HTTP/1.1 answer: ${JSON.stringify(firstLine.slice(0, 40))}`,
  );
}

function protocolError(subject: string, what: string): FerryError {
  return new FerryError(RegistryErrorCode.Protocol, `${subject}: ${what}`);
}
