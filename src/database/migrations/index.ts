import { CreateAuditEvents1764115200000 } from './1764115200000-CreateAuditEvents';
import { AuditEventModel1764200000000 } from './1764200000000-AuditEventModel';
import { AuthorizationServer1764400000000 } from './1764400000000-AuthorizationServer';

/** Every migration, oldest first. A new migration file is added here too. */
export const migrations = [CreateAuditEvents1764115200000, AuditEventModel1764200000000, AuthorizationServer1764400000000];
