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
  const load = async (payload: Record<string, unknown>) => users.findRowById(Number(payload.userId));
  return {
    [ACCOUNT_CONFIRMATION_JOB]: async (payload) => {
      const row = await load(payload);
      if (!row || row.email_confirmed_at) return;
      await mailer.send(
        composeEmail({
          to: row.email,
          subject: `Confirm your email address for ${siteName}`,
          greeting: `Dear ${row.name},`,
          paragraphs: [
            `Thank you for signing up to ${siteName}. Please confirm your email address by following this link:`,
            `${baseUrl}/account/confirm?token=${users.emailConfirmationTokens.sign(row.id)}`,
            'If you did not sign up, ignore this email and no account will be usable with your address.',
          ],
          siteName,
        }),
      );
    },
    [ACCOUNT_EXISTS_JOB]: async (payload) => {
      const row = await load(payload);
      if (!row) return;
      await mailer.send(
        composeEmail({
          to: row.email,
          subject: `You already have an account on ${siteName}`,
          greeting: `Dear ${row.name},`,
          paragraphs: [
            'Someone (probably you) tried to sign up with this email address, but it already has an account.',
            `Sign in at ${baseUrl}/login — or, if you have forgotten your password, set a new one here (valid for an hour):`,
            `${baseUrl}/password/reset?token=${users.passwordResetToken(row)}`,
          ],
          siteName,
        }),
      );
    },
    [PASSWORD_RESET_JOB]: async (payload) => {
      const row = await load(payload);
      if (!row) return;
      await mailer.send(
        composeEmail({
          to: row.email,
          subject: `Reset your password for ${siteName}`,
          greeting: `Dear ${row.name},`,
          paragraphs: [
            'Follow this link to choose a new password. It works once, for an hour:',
            `${baseUrl}/password/reset?token=${users.passwordResetToken(row)}`,
            'If you did not ask for this, ignore this email: your password stays as it is.',
          ],
          siteName,
        }),
      );
    },
  };
}
