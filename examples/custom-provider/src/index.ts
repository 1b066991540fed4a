export { HttpServiceProvider } from './http-service-provider.js';
export type { HttpServiceProviderOptions, FetchLike } from './http-service-provider.js';
