/** Every kind of event the audit log records. */
export type AuditKind =
  | 'tool_call'
  | 'auth_success'
  | 'auth_failure'
  | 'session_opened'
  | 'session_closed'
  | 'session_expired'
  | 'oauth_client_registered'
  | 'consent_given'
  | 'consent_revoked'
  | 'api_key_created'
  | 'api_key_revoked'
  | 'user_created'
  | 'user_changed'
  | 'user_disabled'
  | 'config_loaded'
  | 'audit_retention';

/**
 * What a caller hands to `AuditService.record`. The request's id, client IP
 * and user agent are filled from the request context when not given; the
 * event id, time and chain fields are made by the service. Never put a secret
 * here: arguments go through redaction, `detail` does not.
 */
export interface AuditEventInput {
  kind: AuditKind;
  outcome: string;
  occurredAt?: Date;
  principalId?: string;
  authMethod?: string;
  clientName?: string;
  clientVersion?: string;
  clientIp?: string;
  userAgent?: string;
  sessionId?: string;
  requestId?: string;
  era?: string;
  protocolVersion?: string;
  tool?: string;
  namespace?: string;
  /** Already redacted (see `redactArguments`). */
  arguments?: unknown;
  errorCode?: string;
  errorMessage?: string;
  durationMs?: number;
  resultBytes?: number;
  detail?: Record<string, unknown>;
}
