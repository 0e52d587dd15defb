import { Global, Module } from '@nestjs/common';
import { ReadinessRegistry } from './readiness.registry';

/** The registry of readiness checks that modules contribute; global, so any module can add its dependency. */
@Global()
@Module({ providers: [ReadinessRegistry], exports: [ReadinessRegistry] })
export class ReadinessModule {}
