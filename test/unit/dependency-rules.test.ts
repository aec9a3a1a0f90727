import { createRequire } from 'node:module';
import { expect } from 'chai';
import { cruise } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const rules = require('../../.dependency-cruiser.cjs') as { forbidden: unknown[]; options: Record<string, unknown> };

/** Runs the project's own rules over a fixture tree laid out like src/. */
async function violationsIn(baseDir: string): Promise<string[]> {
  const result = await cruise(['src'], {
    ...rules.options,
    baseDir,
    ruleSet: { forbidden: rules.forbidden },
    validate: true,
    tsConfig: undefined,
    exclude: { path: 'node_modules' },
  } as never);
  const output = result.output as { summary: { violations: { rule: { name: string }; from: string }[] } };
  return output.summary.violations.map((violation) => `${violation.rule.name}: ${violation.from}`);
}

describe('Dependency rules (DESIGN.md, enforced by npm run deps:check)', () => {
  it('When the write side imports the read side, platform imports the API, a worker module imports the composition root or the relay doubles back to the read side, then the rules report each', async () => {
    const violations = await violationsIn('test/fixtures/layering');

    expect(violations).to.include.members([
      'commands-stay-on-the-write-side: src/commands/reaches-into-queries.ts',
      'platform-knows-no-domain: src/platform/knows-the-api.ts',
      'only-entries-import-the-composition-root: src/workers/imports-the-root.ts',
      'the-relay-reads-only-the-log: src/workers/relay/doubles-back.ts',
    ]);
    expect(violations.filter((violation) => violation.includes('src/workers/main.ts'))).to.deep.equal([]);
    expect(violations.filter((violation) => violation.includes('events/contract.ts'))).to.deep.equal([]);
  });
});
