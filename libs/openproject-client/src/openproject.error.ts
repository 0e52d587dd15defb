/** What went wrong talking to OpenProject, as one stable code per kind of failure. */
export enum OpenProjectErrorCode {
  /** 401: the API key is wrong, expired or revoked (or API tokens are disabled). */
  Unauthenticated = 'unauthenticated',
  /** 403 `MissingPermission`. */
  PermissionDenied = 'permission_denied',
  /** 404: missing, or not visible to this user. */
  NotFound = 'not_found',
  /** 409 `UpdateConflict`: the `lockVersion` was stale (or a relation already links the pair). */
  Conflict = 'conflict',
  /** 422: a property was invalid, read-only or missing. */
  Validation = 'validation',
  /** 400 (bad filter, body or signal), 406, 415. */
  InvalidRequest = 'invalid_request',
  /** 400 text/plain "Invalid host_name configuration": the Host header is not one OpenProject accepts. */
  HostNameRejected = 'host_name_rejected',
  /** 301/308 to https: OpenProject runs with OPENPROJECT_HTTPS=true and saw a plain-HTTP request. */
  HttpsRedirect = 'https_redirect',
  /** Any other redirect (never followed while sending credentials). */
  Redirect = 'redirect',
  /** 5xx. */
  ServerError = 'server_error',
  /** Connection refused, DNS failure, reset. */
  Unreachable = 'unreachable',
  Timeout = 'timeout',
  /** A response that is not the HAL+JSON the API promises. */
  UnexpectedResponse = 'unexpected_response',
}

/** `errorIdentifier` suffixes (`urn:openproject-org:api:v3:errors:<Name>`) and their codes. */
const IDENTIFIERS: Record<string, OpenProjectErrorCode> = {
  Unauthenticated: OpenProjectErrorCode.Unauthenticated,
  MissingPermission: OpenProjectErrorCode.PermissionDenied,
  NotFound: OpenProjectErrorCode.NotFound,
  UpdateConflict: OpenProjectErrorCode.Conflict,
  PropertyConstraintViolation: OpenProjectErrorCode.Validation,
  PropertyIsReadOnly: OpenProjectErrorCode.Validation,
  PropertyFormatError: OpenProjectErrorCode.Validation,
  PropertyMissingError: OpenProjectErrorCode.Validation,
  PropertyValueNotAvailableAnymore: OpenProjectErrorCode.Validation,
  ResourceTypeMismatch: OpenProjectErrorCode.Validation,
  MultipleErrors: OpenProjectErrorCode.Validation,
  InvalidQuery: OpenProjectErrorCode.InvalidRequest,
  InvalidRenderContext: OpenProjectErrorCode.InvalidRequest,
  InvalidRequestBody: OpenProjectErrorCode.InvalidRequest,
  InvalidSignal: OpenProjectErrorCode.InvalidRequest,
  InvalidUserStatusTransition: OpenProjectErrorCode.InvalidRequest,
  TypeNotSupported: OpenProjectErrorCode.InvalidRequest,
  MissingContentType: OpenProjectErrorCode.InvalidRequest,
  InternalServerError: OpenProjectErrorCode.ServerError,
};

/** The code for an API error body's identifier, else by HTTP status. */
export function codeFor(status: number, errorIdentifier?: string): OpenProjectErrorCode {
  const name = errorIdentifier?.split(':').pop();
  if (name && IDENTIFIERS[name]) return IDENTIFIERS[name];
  if (status === 401) return OpenProjectErrorCode.Unauthenticated;
  if (status === 403) return OpenProjectErrorCode.PermissionDenied;
  if (status === 404) return OpenProjectErrorCode.NotFound;
  if (status === 409) return OpenProjectErrorCode.Conflict;
  if (status === 422) return OpenProjectErrorCode.Validation;
  if (status >= 500) return OpenProjectErrorCode.ServerError;
  return OpenProjectErrorCode.InvalidRequest;
}

/**
 * A failed call. `message` is OpenProject's own (localized, markup-free) when
 * it sent one, or ours for transport failures and the Docker-network
 * misconfigurations, naming the setting to change. Never contains the key.
 */
export class OpenProjectError extends Error {
  constructor(
    readonly code: OpenProjectErrorCode,
    message: string,
    readonly details: {
      status?: number;
      errorIdentifier?: string;
      /** The attribute a 422 is about (`subject`, `lockVersion`...). */
      attribute?: string;
      /** Every message of a `MultipleErrors` body. */
      messages?: string[];
      method?: string;
      path?: string;
      /** The socket error of a transport failure (`ECONNREFUSED`, `ENOTFOUND`...). */
      transportCode?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'OpenProjectError';
  }
}
