import type { Timestamp } from '../../platform/clock.js';

export type CommandState = 'accepted' | 'succeeded' | 'failed';

export interface CommandDto {
  id: string;
  type: string;
  status: CommandState;
  createdAt: Timestamp;
  completedAt: Timestamp | null;
  /** Where to read what the command changed. */
  links: CommandLinks;
  /** RFC 9457 problem details when the command failed after it was accepted. */
  error: { type: string; title: string; status: number; detail?: string } | null;
}

/** `self`, and the resource the command changed, under its type's name. */
export interface CommandLinks {
  self: string;
  order?: string;
  product?: string;
  customer?: string;
  webhook?: string;
}
