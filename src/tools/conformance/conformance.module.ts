import { Module } from '@nestjs/common';
import { ConformanceContentTools } from './conformance-content.tools';
import { ConformanceInputTools } from './conformance-input.tools';
import { ConformanceResources } from './conformance-resources.tools';
import { ConformanceSleep } from './conformance-sleep.tools';
import { ConformanceTriggers } from './conformance-triggers.tools';

/**
 * The fixtures of the official MCP conformance suite (`test_*` tools,
 * `test://` resources, `test_*` prompts), declared with the same decorators
 * as every other tool module: they show that the decorators cover the
 * protocol. Composed only when PORTICO_CONFORMANCE_FIXTURES=true
 * (scripts/conformance.sh) and by Portico's own tests of the built app
 * (`test_sleep`); never in production.
 */
@Module({ providers: [ConformanceContentTools, ConformanceInputTools, ConformanceResources, ConformanceTriggers, ConformanceSleep] })
export class ConformanceModule {}
