import { composeEmail, truncate } from '../../mail/compose.ts';
import type { MailMessage } from '../../mail/mailer.ts';
import { localisedUrl, t } from '../../i18n/i18n.ts';

export interface ConfirmationEmailInput {
  siteName: string;
  signerName: string;
  to: string;
  petitionTitle: string;
  petitionUrl: string;
  confirmUrl: string;
  removeUrl: string;
}

/**
 * The email that asks a signer to confirm their signature (plain text: it reads well everywhere),
 * in the current language: run it inside withLanguage(signer's language).
 */
export function confirmationEmail(input: ConfirmationEmailInput): MailMessage {
  return composeEmail({
    to: input.to,
    subject: t('email.confirm_subject', { title: truncate(input.petitionTitle) }),
    greeting: t('email.dear', { name: input.signerName }),
    paragraphs: [
      t('email.confirm_thanks', { title: input.petitionTitle }),
      t('email.confirm_follow'),
      localisedUrl(input.confirmUrl),
      t('email.confirm_read', { url: localisedUrl(input.petitionUrl) }),
      t('email.confirm_not_you'),
      t('email.confirm_remove', { url: localisedUrl(input.removeUrl) }),
    ],
    siteName: input.siteName,
  });
}
