export * from './duration';
export * from './filters';
export * from './hal';
export * from './openproject.client';
export * from './openproject.error';
export * from './resources';
