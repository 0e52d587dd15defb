import { CreateAuditEvents1764115200000 } from './1764115200000-CreateAuditEvents';

/** Every migration, oldest first. A new migration file is added here too. */
export const migrations = [CreateAuditEvents1764115200000];
