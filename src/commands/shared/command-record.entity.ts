import { defineEntity, p } from '@mikro-orm/core';

/** What command_log stores; `succeeded` is never stored, it is derived on read once every read model caught up. */
export type CommandStatus = 'accepted' | 'failed';

/** The command log: one row per accepted command, written in the command's transaction. */
export const CommandRecordSchema = defineEntity({
  name: 'CommandRecord',
  tableName: 'command_log',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    principalId: p.text(),
    type: p.text(),
    status: p.text().$type<CommandStatus>(),
    aggregateType: p.text().nullable(),
    aggregateId: p.text().nullable(),
    error: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime(),
    completedAt: p.datetime().nullable(),
  },
});
export class CommandRecord extends CommandRecordSchema.class {}
CommandRecordSchema.setClass(CommandRecord);
