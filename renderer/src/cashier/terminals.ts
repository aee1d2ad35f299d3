// The terminals line of the status bar: how many of the till's terminals are connected, and which are
// not. A port no driver claims (a serial port of the machine itself) is not a terminal; a closed
// device is gone for good.
import type { DeviceSummary } from '../../../contract/till-events.ts';

export interface TerminalCounts {
  connected: number;
  total: number;
  /** The terminals not connected now, by their label (or id), with their state. */
  down: { name: string; state: DeviceSummary['state'] }[];
}

export function terminalCounts(list: readonly DeviceSummary[]): TerminalCounts {
  const terminals = list.filter((d) => d.driver !== null && d.state !== 'closed');
  const down = terminals.filter((d) => d.state !== 'connected');
  return {
    connected: terminals.length - down.length,
    total: terminals.length,
    down: down.map((d) => ({ name: d.label ?? d.id, state: d.state })),
  };
}
