/** Observations as a weather service would return them; fixed sample data, so the example needs no network. */
export interface Observation {
  station: string;
  city: string;
  country: string;
  temperatureC: number;
  windKmh: number;
  humidityPercent: number;
  conditions: string;
}

export const SAMPLE_OBSERVATIONS: readonly Observation[] = [
  { station: 'EDDB', city: 'Berlin', country: 'DE', temperatureC: 7.5, windKmh: 18, humidityPercent: 81, conditions: 'overcast' },
  { station: 'EGLL', city: 'London', country: 'GB', temperatureC: 10, windKmh: 22, humidityPercent: 77, conditions: 'light rain' },
  { station: 'KJFK', city: 'New York', country: 'US', temperatureC: 4, windKmh: 26, humidityPercent: 55, conditions: 'clear' },
  { station: 'RJTT', city: 'Tokyo', country: 'JP', temperatureC: 14.5, windKmh: 9, humidityPercent: 62, conditions: 'partly cloudy' },
  { station: 'YSSY', city: 'Sydney', country: 'AU', temperatureC: 24, windKmh: 15, humidityPercent: 68, conditions: 'sunny' },
];
