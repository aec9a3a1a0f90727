import { BlockList, isIP } from 'node:net';

/**
 * Address ranges an outbound request made on a user's behalf must not reach (SSRF): everything
 * that is not on the public internet. Order matters: the first range that matches names it.
 */
const NON_PUBLIC: readonly [name: string, network: string, prefix: number][] = [
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['cgnat', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24],
  ['documentation', '192.0.2.0', 24],
  ['private', '192.168.0.0', 16],
  ['benchmarking', '198.18.0.0', 15],
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['reserved', '::', 96],
  ['discard', '100::', 64],
  ['nat64-local', '64:ff9b:1::', 48],
  ['documentation', '2001:db8::', 32],
  ['unique-local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['site-local', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
];

const RANGES = NON_PUBLIC.map(([name, network, prefix]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, isIP(network) === 6 ? 'ipv6' : 'ipv4');
  return { name, list };
});

/**
 * The name of the non-public range `address` falls in ("loopback", "private", …), or `null` for
 * a public address. IPv6 addresses that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
 * NAT64 `64:ff9b::a.b.c.d`) are judged by the IPv4 address they lead to. Anything that is not an
 * IP address is "invalid".
 */
export function nonPublicRangeOf(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'invalid';
  const embedded = family === 6 ? embeddedIpv4(bare) : null;
  if (embedded) return nonPublicRangeOf(embedded);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  return RANGES.find((range) => range.list.check(bare, type))?.name ?? null;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(ipv6: string): string | null {
  const words = ipv6Words(ipv6);
  const mapped = words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff;
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((word) => word === 0);
  if (!mapped && !nat64) return null;
  return [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff].join('.');
}

/** The eight 16-bit words of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Words(ipv6: string): number[] {
  const withHexTail = ipv6.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_match, a, b, c, d) =>
    [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((word) => word.toString(16)).join(':'),
  );
  const [head = '', tail] = withHexTail.split('::');
  const parse = (part: string) => (part ? part.split(':').map((word) => parseInt(word, 16)) : []);
  const [left, right] = [parse(head), parse(tail ?? '')];
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}
