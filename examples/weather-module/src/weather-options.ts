import { z } from 'zod';

/**
 * The module's own settings, read from the environment when the module is
 * created and validated there: a bad value fails Portico's boot with the
 * variable named. They live with the module, not in Portico's env schema.
 */
export const weatherEnv = z.object({
  WEATHER_UNITS: z.enum(['metric', 'imperial'], { message: 'must be metric or imperial' }).default('metric'),
});

export interface WeatherOptions {
  units: 'metric' | 'imperial';
}

export const WEATHER_OPTIONS = Symbol('WEATHER_OPTIONS');

/** Parses the module's variables; throws an error naming each bad one. */
export function weatherOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WeatherOptions {
  const parsed = weatherEnv.safeParse({ WEATHER_UNITS: env.WEATHER_UNITS || undefined });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${String(i.path[0])}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration of the weather module:\n${problems}`);
  }
  return { units: parsed.data.WEATHER_UNITS };
}
