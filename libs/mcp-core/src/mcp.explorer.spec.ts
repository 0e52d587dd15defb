import { Injectable, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { Tool } from './decorators/tool.decorator';
import { ToolProvider } from './decorators/tool-provider.decorator';
import { McpCoreModule } from './mcp-core.module';
import type { ToolContext } from './context';
import { McpRegistry } from './mcp.registry';

@Injectable()
class Greeting {
  readonly word = 'Hello';
}

@ToolProvider({ namespace: 'greet' })
class GreetTools {
  private readonly suffix = '!';

  constructor(private readonly greeting: Greeting) {}

  @Tool({ name: 'greet', description: 'Greets someone.', input: z.object({ who: z.string() }) })
  greet({ who }: { who: string }) {
    return `${this.greeting.word}, ${who}${this.suffix}`;
  }

  @Tool({ name: 'greet_all', description: 'Greets everyone.' })
  greetAll() {
    return `${this.greeting.word}, everyone${this.suffix}`;
  }

  /** Not a tool: no @Tool. */
  helper() {
    return 'not a tool';
  }
}

@ToolProvider({ namespace: 'other' })
class OtherTools {
  @Tool({ name: 'greet', description: 'Another greeting.' })
  hello() {
    return 'hi';
  }
}

/** Not a @ToolProvider, so its @Tool is ignored. */
@Injectable()
class PlainService {
  @Tool({ name: 'plain_tool', description: 'Never registered.' })
  run() {
    return 'plain';
  }
}

async function boot(providers: Provider[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [McpCoreModule.forRoot({ server: { name: 't', version: '1' }, defaultTimeoutMs: 1000, requestState: { key: new Uint8Array(32), ttlSeconds: 60 } })],
    providers,
  }).compile();
  return moduleRef.createNestApplication({ logger: false });
}

const ctx = {} as ToolContext;

describe('McpExplorer', () => {
  it('registers the @Tool methods of @ToolProvider classes with `this` bound to the instance', async () => {
    const app = await boot([Greeting, GreetTools, PlainService]);
    await app.init();
    try {
      const registry = app.get(McpRegistry);

      expect(registry.tools().map((t) => [t.name, t.namespace, t.source])).toEqual([
        ['greet', 'greet', 'GreetTools.greet'],
        ['greet_all', 'greet', 'GreetTools.greetAll'],
      ]);
      const greet = registry.getTool('greet')!;
      expect(greet.definition.input.safeParse({ who: 'Ada' }).success).toBe(true);
      // Called detached from the instance, as the invoker does.
      const { handler } = greet;
      expect(handler({ who: 'Ada' }, ctx)).toBe('Hello, Ada!');
      expect(registry.getTool('greet_all')!.handler({}, ctx)).toBe('Hello, everyone!');
    } finally {
      await app.close();
    }
  });

  it('fails the boot when two providers declare the same tool name, naming both sources', async () => {
    const app = await boot([Greeting, GreetTools, OtherTools]);

    const init = app.init();

    await expect(init).rejects.toThrow(/Duplicate tool name "greet"/);
    await expect(init).rejects.toThrow(/GreetTools\.greet/);
    await expect(init).rejects.toThrow(/OtherTools\.hello/);
    await app.close();
  });
});
