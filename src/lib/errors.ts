/**
 * The one place errors are defined. Each has a stable `code` that API clients may rely on,
 * and an HTTP status. The error handler in app.ts renders them as JSON under /api and as
 * an HTML page elsewhere.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 422,
  unauthenticated: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  petition_not_found: 404,
  invalid_confirmation_link: 404,
  petition_closed: 409,
  petition_not_open: 409,
  invalid_state_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field name → message, for errors shown next to form fields. */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  /** The first field at fault, when the error is about one input. */
  readonly field: string | null;
  /** Every field at fault, for forms that show errors next to each field. */
  readonly fields: FieldErrors;
  /** For 429 and 503: when to try again (sent as Retry-After). */
  readonly retryAfterSeconds: number | null;

  constructor(code: ErrorCode, message: string, options: { field?: string; fields?: FieldErrors; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.status = ERROR_STATUS[code];
    this.fields = options.fields ?? (options.field ? { [options.field]: message } : {});
    this.field = options.field ?? Object.keys(this.fields)[0] ?? null;
  }

  /** The JSON body the API returns for this error. */
  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        field: this.field,
        ...(Object.keys(this.fields).length > 1 ? { fields: this.fields } : {}),
      },
    };
  }
}

/** A validation error for one or more fields; the message summarises the first. */
export function validationError(fields: FieldErrors): AppError {
  const [first] = Object.entries(fields);
  const message = first ? `${first[0]}: ${first[1]}` : 'The request is not valid.';
  return new AppError('validation_failed', message, { fields });
}

export const notFound = (message = 'There is nothing at this address.') => new AppError('not_found', message);
export const forbidden = (message = 'You are not allowed to do that.') => new AppError('forbidden', message);
export const unauthenticated = (message = 'Please sign in first.') => new AppError('unauthenticated', message);
