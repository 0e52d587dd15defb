import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AuthGuard } from './auth.guard';
import { BearerStrategy } from './bearer.strategy';
import { StaticTokenService } from './static-token.service';

/** Who is calling, on every request of the MCP app (a global guard). */
@Module({
  imports: [PassportModule],
  providers: [StaticTokenService, BearerStrategy, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [StaticTokenService],
})
export class AuthModule {}
