import { infrastructure } from './infrastructure.js';

/** Root hooks: find (or start) PostgreSQL and Redis once, before any suite runs. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await infrastructure();
  },
};

export async function mochaGlobalTeardown() {
  await (await infrastructure()).stop();
}
