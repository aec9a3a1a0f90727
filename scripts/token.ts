/** `npm run token -- --sub u1 --tenant acme --roles customer [--name Ada --email ada@example.com --ttl 3600]` */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/config.js';
import { signDevToken } from '../src/platform/dev-tokens.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    tenant: { type: 'string' },
    roles: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    ttl: { type: 'string', default: '43200' },
  },
});
if (!values.sub || !values.tenant || !values.roles) {
  console.error('usage: npm run token -- --sub <id> --tenant <tenant> --roles <role[,role]> [--name N --email E --ttl seconds]');
  process.exit(2);
}
const token = signDevToken(
  loadConfig(),
  { sub: values.sub, tenant: values.tenant, roles: values.roles.split(','), name: values.name, email: values.email },
  Number(values.ttl),
);
console.log(token);
