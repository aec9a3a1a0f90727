import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { renderConfigTable, tableIn } from '../../scripts/config-table.js';
import { configReference } from '../../src/platform/config.js';

describe('Configuration documents itself (schema -> README)', () => {
  it('When the schema is read, then every key has a description', () => {
    expect(
      configReference()
        .filter((key) => !key.description.trim())
        .map((key) => key.key),
    ).to.deep.equal([]);
  });

  it('When the README is read, then its configuration table is the one generated from the schema (npm run docs:config)', async () => {
    const inReadme = tableIn(readFileSync('README.md', 'utf8'));
    const generated = await renderConfigTable();

    expect(inReadme, 'README.md has the generated section').to.be.a('string');
    expect(inReadme).to.equal(generated);
  });
});
