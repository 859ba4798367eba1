import { Role } from './app.config';

/** @returns true when a process of `role` serves the client API and the webhooks (`all`, `api`) */
export function servesApi(role: Role): boolean {
  return role === Role.All || role === Role.Api;
}

/** @returns true when a process of `role` runs the delivery worker and the queue's maintenance (`all`, `worker`) */
export function runsWorker(role: Role): boolean {
  return role === Role.All || role === Role.Worker;
}

/** @returns true when a process of `role` may start the built-in mock providers (`all` only) */
export function hostsMockProviders(role: Role): boolean {
  return role === Role.All;
}
