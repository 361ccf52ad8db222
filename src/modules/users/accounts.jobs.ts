import { languageOf, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import type { UserRow } from '../../db/schema.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import { composeEmail } from '../../mail/compose.ts';
import type { Mailer } from '../../mail/mailer.ts';
import { ACCOUNT_CONFIRMATION_JOB, ACCOUNT_EXISTS_JOB, PASSWORD_RESET_JOB, type UsersService } from './users.service.ts';

export interface AccountJobDeps {
  users: UsersService;
  mailer: Mailer;
  baseUrl: string;
  siteName: string;
}

/** Emails about campaigner accounts. Jobs carry only the account id; links are made at send time. */
export function accountJobHandlers(deps: AccountJobDeps): Record<string, JobHandler> {
  const { users, mailer, baseUrl, siteName } = deps;
  /** Emails an account holder (unless `skip`), in the language they asked in or their account's. */
  const mailAccount = async (payload: Record<string, unknown>, skip: (row: UserRow) => boolean, content: (row: UserRow) => { subject: string; paragraphs: string[] }) => {
    const row = await users.findRowById(Number(payload.userId));
    if (!row || skip(row)) return;
    await mailer.send(
      withLanguage(languageOf(payload.language, row.language), () =>
        composeEmail({ to: row.email, greeting: t('email.dear', { name: row.name }), siteName, ...content(row) }),
      ),
    );
  };
  return {
    [ACCOUNT_CONFIRMATION_JOB]: (payload) =>
      mailAccount(
        payload,
        (row) => row.email_confirmed_at !== null,
        (row) => ({
          subject: t('account_email.confirm_subject', { site: siteName }),
          paragraphs: [
            t('account_email.confirm_thanks', { site: siteName }),
            localisedUrl(`${baseUrl}/account/confirm?token=${users.emailConfirmationTokens.sign(row.id)}`),
            t('account_email.confirm_not_you'),
          ],
        }),
      ),
    [ACCOUNT_EXISTS_JOB]: (payload) =>
      mailAccount(
        payload,
        () => false,
        (row) => ({
          subject: t('account_email.exists_subject', { site: siteName }),
          paragraphs: [
            t('account_email.exists_someone'),
            t('account_email.exists_sign_in', { url: localisedUrl(`${baseUrl}/login`) }),
            localisedUrl(`${baseUrl}/password/reset?token=${users.passwordResetToken(row)}`),
          ],
        }),
      ),
    [PASSWORD_RESET_JOB]: (payload) =>
      mailAccount(
        payload,
        () => false,
        (row) => ({
          subject: t('account_email.reset_subject', { site: siteName }),
          paragraphs: [t('account_email.reset_follow'), localisedUrl(`${baseUrl}/password/reset?token=${users.passwordResetToken(row)}`), t('account_email.reset_not_you')],
        }),
      ),
  };
}
