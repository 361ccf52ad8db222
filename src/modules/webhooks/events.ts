import type { NewJob } from '../../jobs/jobs.repository.ts';

/** What webhooks can listen to. */
export const WEBHOOK_EVENTS = [
  'signature.confirmed',
  'petition.opened',
  'petition.closed',
  'milestone.reached',
  'update.published',
  'petition.delivered',
  'outcome.recorded',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_EVENT_JOB = 'webhook.event';

/**
 * The job that tells webhooks about an event. It goes into the same transaction as the change, so
 * an event is never lost nor sent for a change that did not happen; the worker fans it out.
 */
export function webhookEvent(event: WebhookEvent, petitionId: number, data: Record<string, unknown> = {}): NewJob {
  return { kind: WEBHOOK_EVENT_JOB, payload: { event, petitionId, data } };
}
