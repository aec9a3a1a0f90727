import { authorizeAttributes } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { AcceptedCommand, CommandRunner, RunOptions } from '../shared/command-runner.js';
import { customerOnFirstSight } from './customer-registry.js';

export interface UpdateProfile {
  name: string;
  email: string;
}

/** A customer edits their own profile; every read model that shows the name follows. */
export class UpdateProfileHandler {
  constructor(private readonly runner: CommandRunner) {}

  handle(principal: Principal, profile: UpdateProfile, options?: RunOptions): Promise<AcceptedCommand> {
    return this.runner.run(
      'UpdateProfile',
      principal,
      async ({ em, ability, now, record }) => {
        authorizeAttributes(ability, 'update', 'CustomerProfile', { tenantId: principal.tenantId, customerId: principal.id });
        const customer = await customerOnFirstSight(em, principal, now, record, { forUpdate: true });
        record(customer.changeProfile(profile, now));
        return { aggregateType: 'Customer', aggregateId: customer.id };
      },
      options,
    );
  }
}
