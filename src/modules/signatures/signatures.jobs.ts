import { isLanguage, withLanguage } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { PetitionsService } from '../petitions/petitions.service.ts';
import { confirmationEmail } from './confirmation-email.ts';
import type { SignaturesRepository } from './signatures.repository.ts';
import { CONFIRMATION_JOB, type SignaturesService } from './signatures.service.ts';

export interface SignatureJobDeps {
  signaturesRepository: SignaturesRepository;
  signatures: SignaturesService;
  petitions: PetitionsService;
  mailer: Mailer;
  baseUrl: string;
  siteName: string;
}

/** Job handlers for signatures. The job holds only the signature id: no personal data in the queue. */
export function signatureJobHandlers(deps: SignatureJobDeps): Record<string, JobHandler> {
  return {
    [CONFIRMATION_JOB]: async (payload) => {
      const signature = await deps.signaturesRepository.findById(Number(payload.signatureId));
      // Confirmed or erased meanwhile: nothing to send.
      if (!signature || signature.status !== 'pending') return;
      const petition = await deps.petitions.getById(signature.petition_id);
      if (!petition) return;
      // In the language the signer used on the form.
      const language = isLanguage(signature.language) ? signature.language : 'en';
      await deps.mailer.send(
        withLanguage(language, () =>
          confirmationEmail({
            siteName: deps.siteName,
            signerName: signature.name,
            to: signature.email,
            petitionTitle: petitionText(petition, language).title,
            petitionUrl: deps.petitions.urlFor(petition),
            confirmUrl: deps.signatures.confirmationUrl(deps.baseUrl, signature.id),
            removeUrl: deps.signatures.removalUrl(deps.baseUrl, signature.id),
          }),
        ),
      );
    },
  };
}
