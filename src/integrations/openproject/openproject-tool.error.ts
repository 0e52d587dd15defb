import { ToolError } from '@portico/mcp-core';
import { OpenProjectError, OpenProjectErrorCode } from '@portico/openproject-client';

/** Why a tool refused before calling OpenProject; each becomes the audit row's `error_code`. */
export enum OpenProjectRefusal {
  WriteDisabled = 'openproject.write_disabled',
  DeleteDisabled = 'openproject.delete_disabled',
  ConfirmRequired = 'openproject.confirm_required',
  ProjectNotAllowed = 'openproject.project_not_allowed',
  AccountNotLinked = 'openproject.account_not_linked',
}

/**
 * The one mapping from client failures to what the model reads: OpenProject's
 * own message where it sent one, with what to do next. The audit row gets
 * `openproject.<code>` as its error code.
 */
export function toToolError(e: unknown, acting?: string): unknown {
  if (!(e instanceof OpenProjectError)) return e;
  const as = acting ? ` (acting as OpenProject user ${acting})` : '';
  const hint: Record<OpenProjectErrorCode, string> = {
    [OpenProjectErrorCode.Unauthenticated]: `OpenProject refused the API key${as}: it is wrong, expired or revoked, or API tokens are disabled. Link a new key with openproject_link_account (per-user mode) or ask an administrator to renew OPENPROJECT_API_KEY.`,
    [OpenProjectErrorCode.PermissionDenied]: `OpenProject denied this${as}: ${e.message} The OpenProject user lacks the project permission for it.`,
    [OpenProjectErrorCode.NotFound]: `Not found in OpenProject${as}: it does not exist or this user may not see it.`,
    [OpenProjectErrorCode.Conflict]: `OpenProject reported a conflict: ${e.message}`,
    [OpenProjectErrorCode.Validation]: `OpenProject rejected the values${e.details.attribute ? ` (${e.details.attribute})` : ''}: ${e.message}`,
    [OpenProjectErrorCode.InvalidRequest]: `OpenProject rejected the request: ${e.message}`,
    [OpenProjectErrorCode.HostNameRejected]: e.message,
    [OpenProjectErrorCode.HttpsRedirect]: e.message,
    [OpenProjectErrorCode.Redirect]: e.message,
    [OpenProjectErrorCode.ServerError]: `OpenProject failed with a server error (HTTP ${e.details.status ?? '5xx'}); try again later.`,
    // Not the client's message: it names OPENPROJECT_URL, an internal address the model has no use for.
    [OpenProjectErrorCode.Unreachable]: `OpenProject is unreachable right now (${e.details.transportCode ?? 'network error'}). Try again later.`,
    [OpenProjectErrorCode.Timeout]: `${e.message}. Try again, or narrow the request.`,
    [OpenProjectErrorCode.UnexpectedResponse]: e.message,
  };
  return new ToolError(hint[e.code], { code: `openproject.${e.code}`, cause: e });
}
