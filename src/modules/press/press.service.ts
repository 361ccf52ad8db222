import { withExample } from '../openapi/examples.ts';
import { z } from 'zod';
import { AppError, validationError } from '../../lib/errors.ts';
import { singleLine } from '../../lib/text.ts';
import type { Clock } from '../../lib/time.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import type { PressLink, PressRepository } from './press.repository.ts';

export const PressInput = withExample(
  z.object({
  outlet: singleLine({ min: 2, max: 120, required: 'Enter the outlet, e.g. BBC London' }),
  headline: singleLine({ min: 3, max: 300, required: 'Enter the headline' }),
  date: z.iso.date({ error: 'Enter the date like 2006-11-16' }),
  url: z.string({ error: 'Enter the web address' }).trim().max(1000).regex(/^https?:\/\/\S+$/i, 'Enter a web address starting with https://'),
  }),
  { outlet: 'BBC London', headline: 'Petition to save trafficking unit handed in', date: '2006-11-16', url: 'https://news.example.org/trafficking-unit' },
);

export const PressOutput = z.object({ id: z.number().int(), outlet: z.string(), headline: z.string(), date: z.string(), url: z.string() });

/** "In the news" links, kept by the petition's owners and editors. */
export class PressService {
  constructor(
    private readonly press: PressRepository,
    private readonly petitions: PetitionsService,
    private readonly clock: Clock,
  ) {}

  async list(petition: Petition): Promise<PressLink[]> {
    return this.press.list(petition.id);
  }

  async add(user: User, slug: string, input: unknown): Promise<PressLink> {
    const petition = await this.team(user, slug);
    const data = this.parse(input);
    const id = await this.press.insert(
      petition.id,
      { outlet: data.outlet, headline: data.headline, publishedOn: data.date, url: data.url },
      (linkId) => ({ audit: [{ actorId: user.id, petitionId: petition.id, action: 'press.added', details: { id: linkId, outlet: data.outlet } }] }),
      this.clock(),
    );
    return (await this.press.list(petition.id)).find((l) => l.id === id)!;
  }

  async edit(user: User, slug: string, id: number, input: unknown): Promise<PressLink> {
    const petition = await this.team(user, slug);
    const data = this.parse(input);
    const changed = await this.press.update(
      petition.id,
      id,
      { outlet: data.outlet, headline: data.headline, publishedOn: data.date, url: data.url },
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'press.edited', details: { id } }] },
      this.clock(),
    );
    if (!changed) throw notFound();
    return (await this.press.list(petition.id)).find((l) => l.id === id)!;
  }

  async remove(user: User, slug: string, id: number): Promise<void> {
    const petition = await this.team(user, slug);
    if (!(await this.press.delete(petition.id, id, { audit: [{ actorId: user.id, petitionId: petition.id, action: 'press.removed', details: { id } }] }, this.clock()))) {
      throw notFound();
    }
  }

  private parse(input: unknown) {
    const parsed = PressInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    return parsed.data;
  }

  private async team(user: User, slug: string): Promise<Petition> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'campaign', view.petition, this.petitions.options);
    return view.petition;
  }
}

function notFound(): AppError {
  return new AppError('not_found', 'There is no such press link on this petition.');
}
