import { type ToolContext, ToolError } from '@portico/mcp-core';
import { weatherOptionsFromEnv } from './weather-options';
import { WeatherTools } from './weather.tools';

const ctx = {} as ToolContext;

describe('WeatherTools (example package)', () => {
  it('reports a known city in metric units by default', () => {
    const tools = new WeatherTools(weatherOptionsFromEnv({}));

    expect(tools.getConditions({ city: 'berlin' }, ctx)).toMatchObject({
      city: 'Berlin',
      station: 'EDDB',
      temperature: 7.5,
      wind_speed: 18,
      units: { temperature: '°C', wind_speed: 'km/h' },
      sample_data: true,
    });
  });

  it('converts to imperial units when WEATHER_UNITS=imperial', () => {
    const tools = new WeatherTools(weatherOptionsFromEnv({ WEATHER_UNITS: 'imperial' }));

    expect(tools.getConditions({ city: 'Berlin' }, ctx)).toMatchObject({ temperature: 45.5, wind_speed: 11.2, units: { temperature: '°F', wind_speed: 'mph' } });
  });

  it('names the known cities when asked for another', () => {
    const tools = new WeatherTools(weatherOptionsFromEnv({}));

    expect(() => tools.getConditions({ city: 'Atlantis' }, ctx)).toThrow(ToolError);
    expect(() => tools.getConditions({ city: 'Atlantis' }, ctx)).toThrow('No weather for "Atlantis": known cities are Berlin, London, New York, Tokyo, Sydney');
  });

  it('refuses a bad WEATHER_UNITS, naming the variable', () => {
    expect(() => weatherOptionsFromEnv({ WEATHER_UNITS: 'kelvin' })).toThrow('WEATHER_UNITS: must be metric or imperial');
  });
});
