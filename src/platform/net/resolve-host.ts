import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name the way the operating system would (hosts file, then DNS). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

/** Every address of `hostname`; an IP literal (with or without IPv6 brackets) is its own answer. */
export const resolveHost: ResolveHost = async (hostname) => {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family) return [{ address: bare, family: family as 4 | 6 }];
  const answers = await lookup(bare, { all: true, order: 'verbatim' });
  return answers.map(({ address, family }) => ({ address, family: family as 4 | 6 }));
};
