import { Global, Module } from '@nestjs/common';
import { LifecycleService } from './lifecycle.service';

/** Serving or draining (graceful shutdown); global, read by readiness and the HTTP pipeline. */
@Global()
@Module({ providers: [LifecycleService], exports: [LifecycleService] })
export class LifecycleModule {}
