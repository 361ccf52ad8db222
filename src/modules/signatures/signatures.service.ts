import { AppError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import type { NewJob } from '../../jobs/jobs.repository.ts';
import type { Petition, PetitionsService } from '../petitions/petitions.service.ts';
import { emailKey } from '../users/users.service.ts';
import { parseSignInput } from './signatures.schema.ts';
import type { SignaturesRepository } from './signatures.repository.ts';

export const CONFIRMATION_JOB = 'signature.send_confirmation';
/** A repeat sign-up re-sends the confirmation at most this often, so nobody can mail-bomb an address. */
export const RESEND_INTERVAL_MS = 60_000;

export type ConfirmResult =
  | { status: 'confirmed' | 'already_confirmed'; petition: Petition }
  | { status: 'petition_closed'; petition: Petition };

export class SignaturesService {
  readonly confirmationTokens: TokenSigner;

  constructor(
    private readonly signatures: SignaturesRepository,
    private readonly petitions: PetitionsService,
    private readonly clock: Clock,
    secretKey: string,
    private readonly onJobQueued: () => void = () => {},
  ) {
    this.confirmationTokens = new TokenSigner(secretKey, 'signature-confirmation');
  }

  /**
   * Records a signature pending email confirmation. The outcome is the same whether or not the
   * address signed before, so the response reveals nothing about who has signed.
   */
  async recordSignature(slug: string, input: unknown): Promise<void> {
    const supportToken = typeof (input as { support_token?: unknown } | null)?.support_token === 'string' ? (input as { support_token: string }).support_token : null;
    const petition = await this.petitions.petitionForSigning(slug, supportToken);
    const data = parseSignInput(input);
    const now = this.clock();
    const { queued } = await this.signatures.recordSignature(
      {
        petitionId: petition.id,
        name: data.name,
        email: data.email,
        emailKey: emailKey(data.email),
        postcode: data.postcode,
        country: data.country,
        publicName: data.public_name,
        contactOptIn: data.contact_opt_in,
      },
      now,
      new Date(now.getTime() - RESEND_INTERVAL_MS).toISOString(),
      (signatureId): NewJob => ({ kind: CONFIRMATION_JOB, payload: { signatureId } }),
    );
    if (queued) this.onJobQueued();
  }

  /** Confirms the signature a link was made for. Following the same link again is harmless. */
  async confirmSignature(token: string): Promise<ConfirmResult> {
    const signatureId = this.confirmationTokens.verify(token);
    if (signatureId === null) throw invalidLink();
    const now = this.clock();
    const { outcome, petitionId } = await this.signatures.confirm(signatureId, now, (p) => this.petitions.confirmsSignatures(p));
    const petition = petitionId === null ? null : await this.petitions.getById(petitionId);
    if (outcome === 'not_found' || !petition) throw invalidLink();
    return { status: outcome, petition };
  }

  /** The link a signer follows to confirm. */
  confirmationUrl(baseUrl: string, signatureId: number): string {
    return `${baseUrl}/signatures/confirm?token=${this.confirmationTokens.sign(signatureId)}`;
  }
}

function invalidLink(): AppError {
  return new AppError(
    'invalid_confirmation_link',
    'This confirmation link is not valid. Check that you copied the whole link from the email.',
  );
}
