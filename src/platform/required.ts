/**
 * Refuses to build a part without one of its dependencies, as wild-workouts' constructors refuse
 * nil: the part fails at start-up, naming what is missing, instead of on its first job.
 */
export function requireDependencies<T extends object>(part: string, dependencies: T): T {
  const missing = Object.entries(dependencies)
    .filter(([, value]) => value === undefined || value === null)
    .map(([name]) => name);
  if (missing.length) throw new Error(`${part} needs ${missing.join(', ')}`);
  return dependencies;
}
