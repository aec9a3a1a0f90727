import { expect } from 'chai';
import { WebhookTargetRefusedError, WebhookTargetUnresolvableError } from '../../src/commands/webhooks/webhook.errors.js';
import { WebhookTargetPolicy } from '../../src/commands/webhooks/webhook-target.js';
import { nonPublicRangeOf } from '../../src/platform/net/ip-ranges.js';
import { resolveHost, type ResolvedAddress } from '../../src/platform/net/resolve-host.js';

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

/** A DNS stand-in: each name answers the next of its answers (the last one repeats); IP literals answer themselves. */
function fakeDns(zone: Record<string, ResolvedAddress[][]>) {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    if (nonPublicRangeOf(hostname) !== 'invalid') return resolveHost(hostname);
    asked.push(hostname);
    const answers = zone[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.length > 1 ? answers.shift()! : answers[0]!;
  };
  return { resolve, asked };
}

async function refusal(check: Promise<unknown>): Promise<Error> {
  const outcome = await check.then(
    () => null,
    (error: Error) => error,
  );
  expect(outcome, 'the check should have been refused').to.be.instanceOf(Error);
  return outcome!;
}

describe('Webhook target safety (SSRF)', () => {
  describe('address ranges', () => {
    const nonPublic: [string, string][] = [
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['100.127.255.255', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['192.0.2.1', 'reserved'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'linkLocal'],
      ['fe80::1%eth0', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['fd12:3456:789a::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.169.254', 'linkLocal'],
      ['::ffff:100.64.1.1', 'carrierGradeNat'],
      // IPv6 forms that embed an IPv4 address: refused whatever that address is.
      ['2002:7f00:1::1', '6to4'],
      ['2002:808:808::1', '6to4'],
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo'],
      ['64:ff9b::a9fe:a9fe', 'rfc6052'],
      ['64:ff9b::808:808', 'rfc6052'],
      ['64:ff9b:1::a00:1', 'rfc6052'],
      ['::ffff:0:7f00:1', 'rfc6145'],
      ['::7f00:1', 'ipv4-compatible'],
      ['[::1]', 'loopback'],
      ['not-an-address', 'invalid'],
    ];
    for (const [address, range] of nonPublic) {
      it(`When the address is ${address}, then it is ${range}`, () => {
        expect(nonPublicRangeOf(address)).to.equal(range);
      });
    }

    it('When the address is public (IPv4, IPv6, mapped, next to private ranges), then it has no range', () => {
      const public_ = ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.1', '172.15.255.255', '172.32.0.1', '192.169.0.1'];
      const publicV6 = ['2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8'];
      for (const address of [...public_, ...publicV6]) expect(nonPublicRangeOf(address), address).to.equal(null);
    });
  });

  describe('the policy', () => {
    it('When the URL is not http(s), then it is refused, even for an allow-listed host', async () => {
      const policy = new WebhookTargetPolicy(['127.0.0.1'], fakeDns({}).resolve);
      for (const url of ['ftp://127.0.0.1/hook', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'not a url', '/relative']) {
        const error = await refusal(policy.check(url));
        expect(error, url).to.be.instanceOf(WebhookTargetRefusedError);
        expect((error as WebhookTargetRefusedError).code).to.equal('webhook.target-refused');
      }
    });

    it('When a host that is not allow-listed uses http, then it is refused before any DNS lookup', async () => {
      const dns = fakeDns({ 'hooks.example.com': [[v4('93.184.216.34')]] });
      const error = await refusal(new WebhookTargetPolicy([], dns.resolve).check('http://hooks.example.com/hook'));
      expect(error).to.be.instanceOf(WebhookTargetRefusedError);
      expect(error.message).to.include('https is required');
      expect(dns.asked).to.deep.equal([]);
    });

    it('When an https host resolves only to public addresses, then it is accepted with the addresses to connect to', async () => {
      const dns = fakeDns({ 'hooks.example.com': [[v4('93.184.216.34'), v6('2606:2800:220:1::1')]] });
      const target = await new WebhookTargetPolicy([], dns.resolve).check('https://hooks.example.com/in?x=1');
      expect(target.url.href).to.equal('https://hooks.example.com/in?x=1');
      expect(target.addresses).to.deep.equal([v4('93.184.216.34'), v6('2606:2800:220:1::1')]);
    });

    it('When any address of the host is private, then it is refused, naming the range', async () => {
      const dns = fakeDns({ 'mixed.example.com': [[v4('93.184.216.34'), v4('10.0.0.5')]], 'six.example.com': [[v6('fd00::5')]] });
      const policy = new WebhookTargetPolicy([], dns.resolve);
      expect((await refusal(policy.check('https://mixed.example.com/'))).message).to.include('private address');
      expect((await refusal(policy.check('https://six.example.com/'))).message).to.include('uniqueLocal address');
    });

    it('When the URL names a private address literally (any notation), then it is refused', async () => {
      const policy = new WebhookTargetPolicy([]);
      const literals = [
        'https://127.0.0.1/',
        'https://2130706433/', // 127.0.0.1 in decimal
        'https://0x7f.1/',
        'https://169.254.169.254/latest/meta-data',
        'https://[::1]:8443/',
        'https://[::ffff:127.0.0.1]/',
        'https://[::ffff:a9fe:a9fe]/',
        'https://[fe80::1]/',
        'https://100.100.100.100/',
        'https://0.0.0.0/',
        'https://[::]/',
      ];
      for (const url of literals) expect(await refusal(policy.check(url)), url).to.be.instanceOf(WebhookTargetRefusedError);
    });

    it('When the host is allow-listed, then http and private addresses are accepted for it and for no other host', async () => {
      const dns = fakeDns({
        localhost: [[v4('127.0.0.1')]],
        'receiver.internal': [[v4('10.1.1.1')]],
        'other.internal': [[v4('10.1.1.2')]],
      });
      const policy = new WebhookTargetPolicy(['LOCALHOST', 'receiver.internal', '::1'], dns.resolve);

      expect((await policy.check('http://localhost:4000/hook')).addresses).to.deep.equal([v4('127.0.0.1')]);
      expect((await policy.check('http://receiver.internal/hook')).addresses).to.deep.equal([v4('10.1.1.1')]);
      expect((await policy.check('http://[::1]:4000/')).addresses).to.deep.equal([v6('::1')]);
      expect(await refusal(policy.check('https://other.internal/'))).to.be.instanceOf(WebhookTargetRefusedError);
      expect(await refusal(policy.check('https://127.0.0.1/'))).to.be.instanceOf(WebhookTargetRefusedError);
    });

    it('When the DNS answer changes to a private address after subscribing (rebinding), then the next check refuses it', async () => {
      const dns = fakeDns({ 'rebind.example.com': [[v4('93.184.216.34')], [v4('127.0.0.1')]] });
      const policy = new WebhookTargetPolicy([], dns.resolve);

      const atSubscription = await policy.check('https://rebind.example.com/hook');
      const atDelivery = await refusal(policy.check('https://rebind.example.com/hook'));

      expect(atSubscription.addresses).to.deep.equal([v4('93.184.216.34')]);
      expect(atDelivery).to.be.instanceOf(WebhookTargetRefusedError);
      expect(atDelivery.message).to.include('loopback address');
    });

    it('When the host does not resolve, then the target is unresolvable (not refused)', async () => {
      const error = await refusal(new WebhookTargetPolicy([], fakeDns({}).resolve).check('https://nowhere.invalid/'));
      expect(error).to.be.instanceOf(WebhookTargetUnresolvableError);
      expect((error as WebhookTargetUnresolvableError).code).to.equal('webhook.target-unresolvable');
    });
  });
});
