import { hash } from 'node:crypto';

/** Normalises an email address for lookup: trimmed, lower case. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * What a signature stores to keep one signature per address per petition: a hash of the
 * normalised address, 12 characters (72 bits: a petition of ten million signers has about one
 * chance in a hundred million of two addresses sharing one, which would turn the second signer
 * away as having signed). Not a second copy of the address (migration 0013): the index on it is
 * 26 bytes a signature instead of 46, and once a signer's details are erased nothing of the
 * address is left. Unkeyed, so it survives a change of SECRET_KEY; the address it stands for is in
 * the same row until erasure anyway.
 */
export function signatureEmailKey(email: string): string {
  // crypto.hash: one call, no Hash object (a third of the time createHash took; every signature makes one).
  return hash('sha256', emailKey(email), 'base64url').slice(0, 12);
}
