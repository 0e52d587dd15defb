import { Inject } from '@nestjs/common';
import { Tool, type ToolContext, ToolError, ToolProvider } from '@portico/mcp-core';
import { z } from 'zod';
import { type Observation, SAMPLE_OBSERVATIONS } from './sample-stations';
import { WEATHER_OPTIONS, type WeatherOptions } from './weather-options';

const conditionsInput = z.object({
  city: z.string().trim().min(1).max(100).describe('City name, e.g. "Berlin"'),
});

const conditionsOutput = z.object({
  city: z.string(),
  country: z.string(),
  station: z.string().describe('ICAO code of the reporting station'),
  temperature: z.number(),
  wind_speed: z.number(),
  units: z.object({ temperature: z.enum(['°C', '°F']), wind_speed: z.enum(['km/h', 'mph']) }),
  humidity_percent: z.number(),
  conditions: z.string(),
  sample_data: z.literal(true).describe('This example module serves fixed sample data, not live weather'),
});

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Weather tools of the example package: current conditions from a sample data set. */
@ToolProvider({ namespace: 'weather' })
export class WeatherTools {
  constructor(@Inject(WEATHER_OPTIONS) private readonly options: WeatherOptions) {}

  @Tool({
    name: 'weather_get_conditions',
    title: 'Current weather',
    description: 'Current weather in a city (sample data of the example module): temperature, wind, humidity and conditions.',
    input: conditionsInput,
    output: conditionsOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['weather:read'],
  })
  getConditions({ city }: z.infer<typeof conditionsInput>, _ctx: ToolContext): z.infer<typeof conditionsOutput> {
    const found = SAMPLE_OBSERVATIONS.find((o) => o.city.toLowerCase() === city.toLowerCase());
    if (!found) {
      throw new ToolError(`No weather for "${city}": known cities are ${SAMPLE_OBSERVATIONS.map((o) => o.city).join(', ')}`);
    }
    return this.present(found);
  }

  private present(o: Observation): z.infer<typeof conditionsOutput> {
    const imperial = this.options.units === 'imperial';
    return {
      city: o.city,
      country: o.country,
      station: o.station,
      temperature: imperial ? round1((o.temperatureC * 9) / 5 + 32) : o.temperatureC,
      wind_speed: imperial ? round1(o.windKmh / 1.609344) : o.windKmh,
      units: imperial ? { temperature: '°F', wind_speed: 'mph' } : { temperature: '°C', wind_speed: 'km/h' },
      humidity_percent: o.humidityPercent,
      conditions: o.conditions,
      sample_data: true,
    };
  }
}
