export { WeatherModule } from './weather.module';
export { WEATHER_OPTIONS, type WeatherOptions, weatherOptionsFromEnv } from './weather-options';
export { WeatherTools } from './weather.tools';
