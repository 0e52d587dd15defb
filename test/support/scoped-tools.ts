import { Module } from '@nestjs/common';
import { Tool, type ToolContext, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';

/** Tools guarded by scopes, the way a team would declare them: reading needs `notes:read`, writing `notes:write` as well. */
@ToolProvider({ namespace: 'notes' })
export class NoteTools {
  private readonly notes = new Map<string, string>([['welcome', 'Hello from Portico']]);

  @Tool({
    name: 'notes_read',
    description: 'Reads a note by title.',
    input: z.object({ title: z.string() }),
    annotations: { readOnlyHint: true },
    scopes: ['notes:read'],
  })
  read({ title }: { title: string }) {
    return this.notes.get(title) ?? `no note titled ${title}`;
  }

  @Tool({
    name: 'notes_write',
    description: 'Writes a note.',
    input: z.object({ title: z.string(), text: z.string() }),
    scopes: ['notes:read', 'notes:write'],
  })
  write({ title, text }: { title: string; text: string }, ctx: ToolContext) {
    this.notes.set(title, text);
    return `saved ${title} for ${ctx.principal.displayName}`;
  }
}

@Module({ providers: [NoteTools] })
export class NoteToolsModule {}
