import { CreateAuditEvents1764115200000 } from './1764115200000-CreateAuditEvents';
import { AuditEventModel1764200000000 } from './1764200000000-AuditEventModel';
import { AuthorizationServer1764400000000 } from './1764400000000-AuthorizationServer';
import { ApiKeysAndUsers1764500000000 } from './1764500000000-ApiKeysAndUsers';
import { OpenProjectAccounts1764600000000 } from './1764600000000-OpenProjectAccounts';

/** Every migration, oldest first. A new migration file is added here too. */
export const migrations = [
  CreateAuditEvents1764115200000,
  AuditEventModel1764200000000,
  AuthorizationServer1764400000000,
  ApiKeysAndUsers1764500000000,
  OpenProjectAccounts1764600000000,
];
