import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';

const OUTPUTS = ['src/api/generated/routes.ts', 'src/api/generated/swagger.json', 'docs/api.md'];

describe('npm run gen', () => {
  it('When the sources have not changed, then it rewrites none of its outputs (so a watching `npm run dev` beside it is not restarted)', async function () {
    this.timeout(180_000);
    // Arrange: `npm test` ran gen just before mocha, so every output is current.
    const before = OUTPUTS.map((file) => statSync(file).mtimeMs);

    // Act
    await promisify(execFile)('npm', ['run', 'gen', '--silent']);

    // Assert
    expect(OUTPUTS.map((file) => statSync(file).mtimeMs)).to.deep.equal(before);
  });
});
