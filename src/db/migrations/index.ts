import type { Migration } from 'kysely';
import * as m0001 from './0001_core.ts';
import * as m0002 from './0002_lifecycle.ts';
import * as m0003 from './0003_campaigning.ts';
import * as m0004 from './0004_handin.ts';
import * as m0005 from './0005_signer_privacy.ts';
import * as m0006 from './0006_webhooks.ts';
import * as m0007 from './0007_geography.ts';
import * as m0008 from './0008_trust_and_safety.ts';
import * as m0009 from './0009_languages.ts';
import * as m0010 from './0010_consent_wordings.ts';
import * as m0011 from './0011_contactable_index.ts';
import * as m0012 from './0012_compact_signatures.ts';
import * as m0013 from './0013_signature_email_hash.ts';
import * as m0014 from './0014_area_sets.ts';
import * as m0015 from './0015_signature_leftovers.ts';
import * as m0016 from './0016_no_ip_index.ts';
import * as m0017 from './0017_signature_status_code.ts';
import * as m0018 from './0018_fraud_reports.ts';
import * as m0019 from './0019_no_done_jobs.ts';
import * as m0020 from './0020_broadcast_progress.ts';
import * as m0021 from './0021_signers_erased.ts';
import * as m0022 from './0022_ip_sweep_by_petition.ts';

/** Migrations in order; names sort lexically, so keep the number prefix. Never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_lifecycle': m0002,
  '0003_campaigning': m0003,
  '0004_handin': m0004,
  '0005_signer_privacy': m0005,
  '0006_webhooks': m0006,
  '0007_geography': m0007,
  '0008_trust_and_safety': m0008,
  '0009_languages': m0009,
  '0010_consent_wordings': m0010,
  '0011_contactable_index': m0011,
  '0012_compact_signatures': m0012,
  '0013_signature_email_hash': m0013,
  '0014_area_sets': m0014,
  '0015_signature_leftovers': m0015,
  '0016_no_ip_index': m0016,
  '0017_signature_status_code': m0017,
  '0018_fraud_reports': m0018,
  '0019_no_done_jobs': m0019,
  '0020_broadcast_progress': m0020,
  '0021_signers_erased': m0021,
  '0022_ip_sweep_by_petition': m0022,
};
