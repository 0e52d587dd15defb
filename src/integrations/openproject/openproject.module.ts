import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../../config/app-config';
import { OpenProjectAccount } from './openproject-account.entity';
import { OpenProjectAccountTools } from './openproject-account.tools';
import { OpenProjectAccessPolicy } from './openproject-access.policy';
import { OpenProjectIdentityService } from './openproject-identity.service';
import { OpenProjectReadTools } from './openproject-read.tools';
import { OpenProjectReferences } from './openproject-references.service';
import { OpenProjectWriteTools } from './openproject-write.tools';
import { OpenProjectHealthIndicator } from './openproject.health';
import { OpenProjectPrompts } from './openproject.prompts';

/**
 * The OpenProject tools (`openproject_*`), prompts and readiness indicator.
 * Composed by CoreModule only when OPENPROJECT_URL is set; the account tools
 * only in per-user identity mode. See docs/openproject.md.
 */
@Module({})
export class OpenProjectModule {
  static forRoot(config: AppConfig): DynamicModule {
    const perUser = config.openproject?.identity === 'per-user';
    return {
      module: OpenProjectModule,
      imports: [TypeOrmModule.forFeature([OpenProjectAccount])],
      providers: [
        OpenProjectIdentityService,
        OpenProjectAccessPolicy,
        OpenProjectReferences,
        OpenProjectReadTools,
        OpenProjectWriteTools,
        OpenProjectPrompts,
        OpenProjectHealthIndicator,
        ...(perUser ? [OpenProjectAccountTools] : []),
      ],
      exports: [OpenProjectHealthIndicator],
    };
  }
}
