import { nonPublicRangeOf } from '../../platform/net/ip-ranges.js';
import { resolveHost, type ResolveHost, type ResolvedAddress } from '../../platform/net/resolve-host.js';
import { WebhookTargetRefusedError, WebhookTargetUnresolvableError } from './webhook.errors.js';

/** A target that passed the policy, with the addresses that were checked: connect to these only. */
export interface CheckedTarget {
  url: URL;
  addresses: [ResolvedAddress, ...ResolvedAddress[]];
}

/**
 * Where webhooks may go (SSRF protection). A target is an https URL whose host resolves only to
 * public addresses. Hosts listed in WEBHOOK_ALLOWED_HOSTS (a receiver inside the cluster, a test's
 * loopback server) may use plain http and any address. The check runs when a subscription is
 * made and again before every delivery, whose connection then goes to the address checked here,
 * so a DNS answer that changes in between (rebinding) cannot redirect it.
 */
export class WebhookTargetPolicy {
  private readonly allowedHosts: Set<string>;

  constructor(
    allowedHosts: readonly string[],
    private readonly resolve: ResolveHost = resolveHost,
  ) {
    this.allowedHosts = new Set(allowedHosts.map(bareHost));
  }

  async check(rawUrl: string): Promise<CheckedTarget> {
    const url = URL.parse(rawUrl);
    if (!url || !['http:', 'https:'].includes(url.protocol)) throw new WebhookTargetRefusedError(rawUrl, 'not an http(s) URL');
    const allowListed = this.allowedHosts.has(bareHost(url.hostname));
    if (url.protocol !== 'https:' && !allowListed) throw new WebhookTargetRefusedError(rawUrl, 'https is required');

    const addresses = await this.resolve(url.hostname).catch(() => []);
    if (!isNonEmpty(addresses)) throw new WebhookTargetUnresolvableError(rawUrl, url.hostname);
    const nonPublic = allowListed ? [] : addresses.map((a) => nonPublicRangeOf(a.address)).filter((range) => range !== null);
    if (nonPublic.length) throw new WebhookTargetRefusedError(rawUrl, `the host resolves to a ${nonPublic[0]} address`);
    return { url, addresses };
  }
}

/** Host names compare lower-case and without IPv6 brackets. */
const bareHost = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '');

const isNonEmpty = <T>(items: T[]): items is [T, ...T[]] => items.length > 0;
