/** Time as a dependency, so tests and the fake payment gateway can be deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * An instant as the API shows it: ISO 8601 in UTC.
 * @format date-time
 * @example "2026-11-26T10:15:30.000Z"
 */
export type Timestamp = string;
