import { Injectable, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { z } from 'zod';
import { Tool } from './decorators/tool.decorator';
import { ToolProvider } from './decorators/tool-provider.decorator';
import { McpCoreModule } from './mcp-core.module';
import type { ToolContext } from './context';
import { McpExplorer } from './mcp.explorer';
import { McpRegistry } from './mcp.registry';
import { Prompt } from './decorators/prompt.decorator';
import { Resource } from './decorators/resource.decorator';

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

/** Created by the application at runtime, not by Nest. */
@ToolProvider({ namespace: 'plugin' })
class PluginTools {
  constructor(private readonly reply: string) {}

  @Tool({ name: 'plugin_tool', description: 'A runtime tool.' })
  run() {
    return this.reply;
  }

  @Resource({ name: 'plugin_doc', uri: 'plugin://doc', description: 'A runtime resource.' })
  doc() {
    return 'doc';
  }

  @Prompt({ name: 'plugin_prompt', description: 'A runtime prompt.' })
  prompt() {
    return 'prompt';
  }
}

/** Its second tool collides with GreetTools.greet. */
@ToolProvider({ namespace: 'plugin' })
class CollidingPlugin {
  @Tool({ name: 'a_first', description: 'Registered, then rolled back.' })
  first() {
    return 'first';
  }

  @Tool({ name: 'greet', description: 'Collides.' })
  second() {
    return 'second';
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
      expect((greet.definition.input as z.ZodObject).safeParse({ who: 'Ada' }).success).toBe(true);
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

  describe('register (runtime)', () => {
    it('registers the decorated methods of an instance, bound to it, and removes exactly them again', async () => {
      const app = await boot([Greeting, GreetTools]);
      await app.init();
      try {
        const registry = app.get(McpRegistry);
        const heard: string[] = [];
        registry.onChange((kind) => heard.push(kind));

        const remove = app.get(McpExplorer).register(new PluginTools('from the plugin'));

        expect(registry.getTool('plugin_tool')!.handler({}, ctx)).toBe('from the plugin');
        expect(registry.getTool('plugin_tool')!.source).toBe('PluginTools.run');
        expect(registry.resources().map((r) => r.name)).toEqual(['plugin_doc']);
        expect(registry.prompts().map((p) => p.name)).toEqual(['plugin_prompt']);
        expect(heard.sort()).toEqual(['prompts', 'resources', 'tools']);

        remove();
        remove(); // idempotent
        expect(registry.tools().map((t) => t.name)).toEqual(['greet', 'greet_all']);
        expect(registry.resources()).toEqual([]);
        expect(registry.prompts()).toEqual([]);
      } finally {
        await app.close();
      }
    });

    it('rolls back what it added when a definition is bad, and refuses a class that is not a @ToolProvider', async () => {
      const app = await boot([Greeting, GreetTools]);
      await app.init();
      try {
        const explorer = app.get(McpExplorer);

        expect(() => explorer.register(new CollidingPlugin())).toThrow(/Duplicate tool name "greet"/);
        expect(app.get(McpRegistry).getTool('a_first')).toBeUndefined();
        expect(() => explorer.register(new PlainService())).toThrow(/PlainService is not a @ToolProvider class/);
      } finally {
        await app.close();
      }
    });
  });
});
