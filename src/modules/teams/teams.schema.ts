import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';

export const MEMBER_ROLES = ['owner', 'editor', 'viewer'] as const;

export const MemberRoleInput = z.enum(MEMBER_ROLES, { error: 'Choose owner, editor or viewer' });

export const InviteInput = withExample(
  z.object({
  email: z
    .string({ error: 'Enter an email address' })
    .trim()
    .min(1, 'Enter an email address')
    .max(254)
    .pipe(z.email('Enter an email address like name@example.com'))
    .transform((e) => e.toLowerCase()),
  role: MemberRoleInput,
  }),
  { email: 'editor@example.org', role: 'editor' },
);

export const ChangeRoleInput = withExample(
  z.object({
  email: z.string({ error: 'Enter the member’s email address' }).trim().toLowerCase().pipe(z.email('Enter an email address')),
  role: MemberRoleInput,
  }),
  { email: 'editor@example.org', role: 'viewer' },
);

export const RemoveMemberInput = z.object({
  email: z.string({ error: 'Enter the member’s email address' }).trim().toLowerCase().pipe(z.email('Enter an email address')),
});

export const TeamEntryOutput = z.object({
  name: z.string().nullable(),
  email: z.string(),
  role: MemberRoleInput,
  status: z.enum(['member', 'invited']),
  since: z.string(),
});
