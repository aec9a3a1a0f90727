import { expect } from 'chai';
import type { Problem } from './k8s.js';

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `  ${p.object}: ${p.message}`).join('\n');
}

export function expectNoProblems(problems: Problem[]): void {
  expect(problems, `\n${formatProblems(problems)}\n`).to.deep.equal([]);
}

/** Asserts that some problem about `object` matches `message`. */
export function expectProblem(problems: Problem[], object: string, message: RegExp): void {
  const hit = problems.some((p) => p.object === object && message.test(p.message));
  expect(hit, `expected a problem for ${object} matching ${String(message)}, got:\n${formatProblems(problems)}`).to.equal(true);
}
