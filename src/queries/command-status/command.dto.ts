export type CommandState = 'accepted' | 'succeeded' | 'failed';

export interface CommandDto {
  id: string;
  type: string;
  status: CommandState;
  createdAt: string;
  completedAt: string | null;
  /** Where to read what the command changed. */
  links: Record<string, string>;
  /** RFC 9457 problem details when the command failed after it was accepted. */
  error: Record<string, unknown> | null;
}
