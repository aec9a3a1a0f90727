import ipaddr from 'ipaddr.js';

/**
 * The name of the non-public range `address` falls in ("loopback", "private", "6to4", …), or
 * `null` for a public unicast address: an outbound request made on a user's behalf (a webhook)
 * may only go to the latter (SSRF). ipaddr.js keeps the IANA special-purpose registries; we only
 * decide what to do with the ranges it names:
 * - IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is what the socket really connects to: judged by its IPv4.
 * - Every other form that carries an IPv4 address (6to4, Teredo, NAT64 `64:ff9b::/96` and
 *   `64:ff9b:1::/48`, IPv4-translated, the deprecated IPv4-compatible `::a.b.c.d`) is refused
 *   outright: where it leads depends on translators we do not control.
 * Anything that is not an IP address is "invalid".
 */
export function nonPublicRangeOf(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'invalid';
  const parsed = ipaddr.parse(bare);
  const range = parsed.range();
  if (parsed.kind() === 'ipv6') {
    const ipv6 = parsed as ipaddr.IPv6;
    if (ipv6.isIPv4MappedAddress()) return nonPublicRangeOf(ipv6.toIPv4Address().toString());
    if (range === 'unicast' && ipv6.parts.slice(0, 6).every((part) => part === 0)) return 'ipv4-compatible';
  }
  return range === 'unicast' ? null : range;
}
