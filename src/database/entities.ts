import { AuditCheckpoint } from '../audit/audit-checkpoint.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { ApiKey } from '../auth/api-key.entity';
import { User } from '../auth/user.entity';
import { OpenProjectAccount } from '../integrations/openproject/openproject-account.entity';

/** Every entity; TypeORM gets this list instead of a glob. */
export const entities = [AuditEvent, AuditCheckpoint, ApiKey, User, OpenProjectAccount];
