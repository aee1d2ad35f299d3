export * from './transport.ts';
export * from './memory.ts';
export * from './fault.ts';
export * from './serial.ts';
export * from './tcp.ts';
export * from './hid.ts';
