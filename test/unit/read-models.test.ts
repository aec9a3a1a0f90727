import { expect } from 'chai';
import { defineAbilityFor } from '../../src/policies/abilities.js';
import { READ_MODELS, createProjections } from '../../src/queries/read-models.js';
import { principal } from '../support/fixtures.js';

const projections = Object.values(createProjections({ catalogCache: {} as never }));

describe('Read models: one declaration each (src/queries/read-models.ts)', () => {
  it('When every read model is declared, then each names a subject some business role of a tenant may read', () => {
    const readers = (['customer', 'staff', 'admin'] as const).map((role) => defineAbilityFor(principal('u', 'acme', [role])));
    const unread = Object.entries(READ_MODELS)
      .filter(([, model]) => !readers.some((ability) => ability.can('read', model.subject)))
      .map(([name, model]) => `${name} (${model.subject})`);
    expect(unread).to.deep.equal([]);
  });

  it('When the projections are built, then their names (inbox consumers, rebuild names) are unique and each owns a table', () => {
    const names = projections.map((projection) => projection.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(projections.filter((projection) => !projection.tables.length).map((projection) => projection.name)).to.deep.equal([]);
  });
});
