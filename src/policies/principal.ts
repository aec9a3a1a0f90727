export const ROLES = ['customer', 'staff', 'admin', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: built from a verified JWT at the edge, or the system for background work. */
export interface Principal {
  id: string;
  tenantId: string;
  roles: Role[];
  /** Profile hints from the token; used only to create a customer profile on first sight. */
  name?: string | undefined;
  email?: string | undefined;
}

/** Background processes (payment results, expiry) act as the tenant's system principal. */
export function systemPrincipal(tenantId: string): Principal {
  return { id: 'system', tenantId, roles: ['admin'] };
}
