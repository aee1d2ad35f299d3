export * from './apdu.ts';
export * from './codes.ts';
export * from './channel.ts';
export * from './driver.ts';
export * from './simulator.ts';
