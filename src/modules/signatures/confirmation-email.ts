import { composeEmail, truncate } from '../../mail/compose.ts';
import type { MailMessage } from '../../mail/mailer.ts';

export interface ConfirmationEmailInput {
  siteName: string;
  signerName: string;
  to: string;
  petitionTitle: string;
  petitionUrl: string;
  confirmUrl: string;
  removeUrl: string;
}

/** The email that asks a signer to confirm their signature (plain text: it reads well everywhere). */
export function confirmationEmail(input: ConfirmationEmailInput): MailMessage {
  return composeEmail({
    to: input.to,
    subject: `Please confirm your signature: ${truncate(input.petitionTitle)}`,
    greeting: `Dear ${input.signerName},`,
    paragraphs: [
      `Thank you for signing the petition "${input.petitionTitle}".`,
      'Your signature will not count until you confirm your email address. Please follow this link:',
      input.confirmUrl,
      `You can read the petition at ${input.petitionUrl}`,
      'If you did not sign this petition, ignore this email: without confirmation, the signature is not counted.',
      `Changed your mind later? Remove your signature: ${input.removeUrl}`,
    ],
    siteName: input.siteName,
  });
}
