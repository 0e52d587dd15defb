import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { ApiKey } from './api-key.entity';
import { ApiKeyService } from './api-key.service';
import { User } from './user.entity';
import { UsersService } from './users.service';

/**
 * API keys and users, without any HTTP: imported by the auth guard's module,
 * the `portico keys` / `portico users` commands, and the built-in
 * authorization server's login page.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKey, User]), AuditModule],
  providers: [ApiKeyService, UsersService],
  exports: [ApiKeyService, UsersService],
})
export class CredentialsModule {}
