import type { Services } from './composition-root.js';
import { signDevToken } from './platform/dev-tokens.js';
import { DuplicateSkuError } from './commands/products/product.errors.js';

const TENANT = 'acme';
const PRODUCTS = [
  { sku: 'MUG-BLUE', name: 'Blue mug', priceCents: 1250, currency: 'EUR' },
  { sku: 'TEE-BLACK-M', name: 'Black T-shirt (M)', priceCents: 2400, currency: 'EUR' },
  { sku: 'POSTER-CQRS', name: 'CQRS poster', priceCents: 900, currency: 'EUR' },
];

/** The demo tenant's catalogue, created through the real command path (so it is projected too). */
export async function seedDemo(services: Services): Promise<DemoProduct[]> {
  const admin = { id: 'demo-admin', tenantId: TENANT, roles: ['admin' as const] };
  for (const product of PRODUCTS) {
    await services.commands.createProduct.handle(admin, product).catch((error: unknown) => {
      if (!(error instanceof DuplicateSkuError)) throw error;
    });
  }
  return services.orm.em
    .fork()
    .execute<DemoProduct[]>('select id, sku, name from products where tenant_id = ? order by sku', [TENANT]);
}

export interface DemoProduct {
  id: string;
  sku: string;
  name: string;
}

/** Ready-to-use tokens and a first request, printed when the local service starts. */
export function demoBanner(services: Services, apiUrl: string, products: DemoProduct[]): string {
  const token = (sub: string, roles: string[], name?: string, email?: string) =>
    signDevToken(services.config, { sub, tenant: TENANT, roles, name, email });
  const customer = token('ada', ['customer'], 'Ada Lovelace', 'ada@example.com');
  return [
    '',
    `API ${apiUrl}   docs ${apiUrl}/docs   tenant "${TENANT}"`,
    '',
    `export CUSTOMER_TOKEN=${customer}`,
    `export STAFF_TOKEN=${token('sam', ['staff'])}`,
    `export ADMIN_TOKEN=${token('alex', ['admin'])}`,
    `export OPERATOR_TOKEN=${token('otto', ['operator'])}`,
    '',
    'Try:',
    `  curl -si ${apiUrl}/v1/orders -H "Authorization: Bearer $CUSTOMER_TOKEN" -H 'Content-Type: application/json' \\`,
    `       -d '{"lines":[{"productId":"${products[0]?.id ?? '<product id>'}","quantity":2}]}'`,
    `  curl -s ${apiUrl}/v1/orders -H "Authorization: Bearer $CUSTOMER_TOKEN"`,
    '',
    'Products:',
    ...products.map((product) => `  ${product.id}  ${product.sku}  ${product.name}`),
    '',
  ].join('\n');
}
