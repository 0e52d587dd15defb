import { Module } from '@nestjs/common';
import { WEATHER_OPTIONS, weatherOptionsFromEnv } from './weather-options';
import { WeatherTools } from './weather.tools';

/**
 * `weather_get_conditions`. Enable it in Portico with one line in
 * src/tools/tool-modules.ts (`export { WeatherModule } from '@portico-examples/weather';`)
 * or pass it to `startPortico(config, [WeatherModule])`.
 */
@Module({
  providers: [WeatherTools, { provide: WEATHER_OPTIONS, useFactory: () => weatherOptionsFromEnv() }],
})
export class WeatherModule {}
