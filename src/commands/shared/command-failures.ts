import type { Orm } from '../../platform/db/orm.js';

/**
 * Marks a command failed after it was accepted: its events could not be applied (the job ended
 * in a dead-letter queue). GET /v1/commands/{id} then answers `failed` with this problem.
 */
export class CommandFailures {
  constructor(private readonly orm: Orm) {}

  async record(commandId: string, detail: string): Promise<void> {
    const problem = { type: '/problems/command.processing-failed', title: 'Processing failed', status: 500, detail };
    await this.orm.em
      .fork()
      .execute(
        `update command_log set status = 'failed', error = ?::jsonb, completed_at = now() where id = ? and status <> 'failed'`,
        [JSON.stringify(problem), commandId],
      );
  }
}
