import { ProtocolError } from '@hafence/core';

const MAX_PATH = 2048;

/**
 * Turns a link from a BMC (`@odata.id`, `Location`, an action `target`) into a request path
 * on the same BMC. A relative path is kept; an absolute `http(s)` URL gives its path only, so
 * a BMC can never send the driver (and its session token) to another host. A `#fragment`
 * is dropped. Anything else (protocol-relative `//x`, control or non-ASCII characters, other
 * schemes, over 2048 characters) is a {@link ProtocolError}.
 */
export function toRequestPath(link: unknown, host: string, what: string): string {
  if (typeof link !== 'string' || link.length === 0 || link.length > MAX_PATH)
    throw new ProtocolError(host, `${what}: not a link`);
  if (/[\u0000-\u0020\u007f-\u009f]/.test(link)) throw new ProtocolError(host, `${what}: link has control characters`);
  // a URI on the wire is ASCII (RFC 3986: anything else percent-encoded); Node refuses to send it otherwise
  if (/[^\u0000-\u007e]/.test(link)) throw new ProtocolError(host, `${what}: link has non-ASCII characters`);
  // the fragment belongs to the client and is never sent (RFC 9110 §7.1)
  const hash = link.indexOf('#');
  let path = hash < 0 ? link : link.slice(0, hash);
  if (/^https?:\/\//i.test(path)) {
    let url: URL;
    try {
      url = new URL(path);
    } catch (err) {
      throw new ProtocolError(host, `${what}: not a URL`, { cause: err });
    }
    path = url.pathname + url.search;
  }
  if (!path.startsWith('/') || path.startsWith('//')) throw new ProtocolError(host, `${what}: not a path on the BMC`);
  return path;
}
