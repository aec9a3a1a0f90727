import { Migration20261126000100_initial } from './Migration20261126000100_initial.js';

/** Every migration, in order. Listed explicitly so compiled and TypeScript runs see the same set. */
export const migrations = [Migration20261126000100_initial];
