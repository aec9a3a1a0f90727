import { z } from 'zod';
import type { CustomerProfile } from '../customer.events.js';

/** The public shape of a customer's profile in integration events (v1). */
export const PublicCustomerV1 = z
  .object({
    id: z.string().describe("The customer's subject (`sub` of their token)."),
    name: z.string(),
    email: z.string(),
  })
  .meta({ title: 'Customer (v1)' });
export type PublicCustomerV1 = z.infer<typeof PublicCustomerV1>;

export const CustomerProfileChangedV1 = z.object({ customer: PublicCustomerV1 });

export function publicCustomerV1(profile: CustomerProfile): PublicCustomerV1 {
  return { id: profile.customerId, name: profile.name, email: profile.email };
}
