/** Time as a dependency, so tests and the fake payment gateway can be deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
