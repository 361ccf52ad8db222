import type { Migration } from 'kysely';
import * as m0001 from './0001_core.ts';

/** Migrations in order; names sort lexically, so keep the number prefix. Never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
};
