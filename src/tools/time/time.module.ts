import { Module } from '@nestjs/common';
import { TimeTools } from './time.tools';

/** `get_current_time` and `convert_time`. Importing the module registers them. */
@Module({ providers: [TimeTools] })
export class TimeModule {}
