// vitest globalSetup: builds the till's screens once per run, if their build is missing or older than
// their sources (renderer/build.ts), before any test serves them (the browser tests, npm start's).
import { buildScreens } from '../renderer/build.ts';

export default async function setup(): Promise<void> {
  await buildScreens();
}
